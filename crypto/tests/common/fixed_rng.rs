//! A deterministic "RNG" that hands out fixed bytes, for known-answer vectors
//! only: with it, the HPKE ephemeral key is `DeriveKeyPair(eph_ikm)`
//! (FORMAT.md#test-vectors). Never use outside tests and vector generation.

use std::convert::Infallible;

/// Yields the given bytes in order, then panics (a vector that draws more
/// randomness than it declares is a bug).
pub struct FixedRng {
    bytes: Vec<u8>,
    at: usize,
}

impl FixedRng {
    /// An RNG over these bytes.
    pub fn new(bytes: &[u8]) -> Self {
        FixedRng {
            bytes: bytes.to_vec(),
            at: 0,
        }
    }
}

impl rand_core::TryRng for FixedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let end = self.at + dst.len();
        assert!(
            end <= self.bytes.len(),
            "FixedRng exhausted: the vector needs more fixed randomness"
        );
        dst.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixedRng {}
