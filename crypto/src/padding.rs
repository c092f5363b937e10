//! Length hiding: the plaintext inside every envelope is `u32 length ‖ payload ‖
//! zero bytes`, padded to the smallest bucket that holds it
//! (FORMAT.md#padding). Does not encrypt anything.

use zeroize::Zeroizing;

/// Allowed plaintext sizes in bytes: 1, 2, 4, 8, 16, 32 and 64 KiB.
pub const BUCKETS: [usize; 7] = [1024, 2048, 4096, 8192, 16384, 32768, 65536];

/// Largest payload that fits the largest bucket (64 KiB minus the 4-byte length).
pub const MAX_PAYLOAD_LEN: usize = 65536 - 4;

/// Padding errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaddingError {
    /// The payload does not fit the largest bucket.
    #[error(
        "the payload is {0} bytes; at most {MAX_PAYLOAD_LEN} bytes fit an envelope (attachments travel separately)"
    )]
    TooLarge(usize),
    /// The plaintext is not one of the bucket sizes.
    #[error("the plaintext is {0} bytes, which is not a padding bucket size")]
    NotABucket(usize),
    /// The length field points past the end of the bucket.
    #[error("the payload length field ({0}) is beyond the padded plaintext")]
    LengthBeyondBucket(u32),
    /// Some padding byte is not zero.
    #[error("the padding after the payload is not all zero bytes")]
    NonZeroPadding,
}

/// The bucket for a payload of `len` bytes.
pub fn bucket_for(len: usize) -> Result<usize, PaddingError> {
    BUCKETS
        .iter()
        .copied()
        .find(|b| len + 4 <= *b)
        .ok_or(PaddingError::TooLarge(len))
}

/// Pad `payload` into a bucket-sized plaintext (zeroized on drop).
pub fn pad(payload: &[u8]) -> Result<Zeroizing<Vec<u8>>, PaddingError> {
    let bucket = bucket_for(payload.len())?;
    let mut out = Zeroizing::new(vec![0u8; bucket]);
    // Fits: bucket_for bounds len by 64 KiB.
    let len = u32::try_from(payload.len()).map_err(|_| PaddingError::TooLarge(payload.len()))?;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out[4..4 + payload.len()].copy_from_slice(payload);
    Ok(out)
}

/// Check a bucket-sized plaintext and return the payload slice.
pub fn unpad(plaintext: &[u8]) -> Result<&[u8], PaddingError> {
    if !BUCKETS.contains(&plaintext.len()) {
        return Err(PaddingError::NotABucket(plaintext.len()));
    }
    let len = u32::from_be_bytes([plaintext[0], plaintext[1], plaintext[2], plaintext[3]]);
    let end = 4usize
        .checked_add(len as usize)
        .filter(|end| *end <= plaintext.len())
        .ok_or(PaddingError::LengthBeyondBucket(len))?;
    // Not secret-dependent timing worth hiding: the plaintext is already opened.
    if plaintext[end..].iter().any(|b| *b != 0) {
        return Err(PaddingError::NonZeroPadding);
    }
    Ok(&plaintext[4..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges() {
        assert_eq!(bucket_for(0).unwrap(), 1024);
        assert_eq!(bucket_for(1020).unwrap(), 1024);
        assert_eq!(bucket_for(1021).unwrap(), 2048);
        assert_eq!(bucket_for(MAX_PAYLOAD_LEN).unwrap(), 65536);
        assert_eq!(
            bucket_for(MAX_PAYLOAD_LEN + 1),
            Err(PaddingError::TooLarge(MAX_PAYLOAD_LEN + 1))
        );
    }

    #[test]
    fn round_trip_and_rejections() {
        let p = pad(b"hello").unwrap();
        assert_eq!(p.len(), 1024);
        assert_eq!(unpad(&p).unwrap(), b"hello");
        let mut bad = p.clone();
        bad[1000] = 1;
        assert_eq!(unpad(&bad), Err(PaddingError::NonZeroPadding));
        let mut bad = p.clone();
        bad[..4].copy_from_slice(&1021u32.to_be_bytes());
        assert_eq!(unpad(&bad), Err(PaddingError::LengthBeyondBucket(1021)));
        assert_eq!(unpad(&[0u8; 1000]), Err(PaddingError::NotABucket(1000)));
    }
}
