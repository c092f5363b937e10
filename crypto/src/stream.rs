//! Attachment streams (FORMAT.md#attachments): a file sealed with a fresh
//! random key in 64 KiB chunks, age's STREAM construction over
//! ChaCha20-Poly1305, padded to a power-of-two bucket so that its size tells
//! no more than the bucket.
//!
//! It owns the bucket sizes, the chunk nonces, the sealed layout, and the
//! checks a reader makes chunk by chunk (each chunk authenticated with its
//! position and with whether it is the last, every padding octet zero). It
//! does not draw the key (the caller passes 32 random octets), read or write
//! files, hash the result (the payload's SHA-256 values are checked by the
//! caller), or know where a blob is stored. Opening sits behind the `open`
//! feature, as for envelopes. ChaCha20-Poly1305 is the
//! `chacha20poly1305` crate's; this module only numbers the chunks.

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Plaintext octets in one chunk (FORMAT.md#attachments, 64 KiB).
pub const CHUNK_LEN: usize = 65536;
/// The Poly1305 tag after each chunk.
pub const TAG_LEN: usize = 16;
/// Octets of one sealed chunk: a full plaintext chunk and its tag.
pub const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
/// The smallest bucket: one chunk.
pub const MIN_BUCKET: u64 = CHUNK_LEN as u64;
/// The largest bucket the format allows, 2^30 octets (1 GiB, 16384 chunks).
/// A server sets its own, lower, limit.
pub const MAX_BUCKET: u64 = 1 << 30;
/// Length of a stream key.
pub const KEY_LEN: usize = 32;

/// Why a stream was refused (FORMAT.md#attachment-errors). Messages name the
/// check that failed; they never quote the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The sizes are not a bucket and a length that fits it.
    #[error(
        "the attachment's sizes do not fit together: the padded size must be a power of two from 64 KiB to 1 GiB and at least the real size"
    )]
    BadSizes,
    /// The file is larger than the largest bucket.
    #[error("the file is larger than the largest attachment bucket (1 GiB)")]
    TooLarge,
    /// The sealed blob is not the length its padded size gives.
    #[error(
        "the sealed attachment is {got} bytes, and its padded size needs {expected}: it is truncated or has data added"
    )]
    BadLength {
        /// Octets expected.
        expected: u64,
        /// Octets given.
        got: u64,
    },
    /// A sealed chunk is not 65552 octets.
    #[error("chunk {index} of the sealed attachment is not 65552 bytes")]
    ChunkLength {
        /// Chunk index, from 0.
        index: u64,
    },
    /// A chunk did not authenticate at its position: altered, reordered,
    /// duplicated, from another attachment, or the last chunk dropped.
    #[error(
        "chunk {index} of the attachment does not authenticate at its place: it was altered, moved, repeated, or comes from another attachment"
    )]
    ChunkFailed {
        /// Chunk index, from 0.
        index: u64,
    },
    /// The stream ended before its last chunk.
    #[error("the attachment ends after {got} of its {expected} chunks")]
    Truncated {
        /// Chunks expected.
        expected: u64,
        /// Chunks given.
        got: u64,
    },
    /// A chunk arrived after the last one.
    #[error("the attachment has data after its last chunk")]
    TrailingData,
    /// A padding octet is not zero.
    #[error(
        "the attachment decrypted, but its padding is not zero: the sender's software is faulty"
    )]
    NonzeroPadding,
    /// The sender passed the wrong number of octets for the next chunk.
    #[error("chunk {index} must carry {expected} bytes of the file, not {got}")]
    WrongChunkInput {
        /// Chunk index.
        index: u64,
        /// Octets expected.
        expected: usize,
        /// Octets given.
        got: usize,
    },
}

impl StreamError {
    /// The stable code (FORMAT.md#attachment-errors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSizes => "bad_sizes",
            Self::TooLarge => "too_large",
            Self::BadLength { .. } => "bad_length",
            Self::ChunkLength { .. } => "bad_length",
            Self::ChunkFailed { .. } => "chunk_failed",
            Self::Truncated { .. } => "truncated",
            Self::TrailingData => "trailing_data",
            Self::NonzeroPadding => "nonzero_padding",
            Self::WrongChunkInput { .. } => "wrong_chunk_input",
        }
    }
}

/// An attachment's key: 32 octets from a cryptographically secure source,
/// fresh for every attachment. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct StreamKey([u8; KEY_LEN]);

impl StreamKey {
    /// A key from its octets (the caller draws them).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
    /// The key's octets, for the payload that carries it.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new_from_slice(&self.0).expect("ChaCha20-Poly1305 takes a 32-byte key")
    }
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKey(<redacted>)")
    }
}

/// The smallest bucket that holds `len` octets: a power of two from 64 KiB
/// (FORMAT.md#attachment-padding).
pub fn bucket_for(len: u64) -> Result<u64, StreamError> {
    if len > MAX_BUCKET {
        return Err(StreamError::TooLarge);
    }
    Ok(len.max(MIN_BUCKET).next_power_of_two())
}

/// Whether `padded` is one of the format's buckets.
pub fn is_bucket(padded: u64) -> bool {
    (MIN_BUCKET..=MAX_BUCKET).contains(&padded) && padded.is_power_of_two()
}

/// The sealed length of a padded size: one tag per 64 KiB chunk.
pub fn sealed_len(padded: u64) -> u64 {
    padded + (padded / CHUNK_LEN as u64) * TAG_LEN as u64
}

/// The padded size a sealed blob of `sealed` octets carries, if it is one a
/// sender could make: what a server, which holds no key, can check.
pub fn padded_len_of(sealed: u64) -> Option<u64> {
    if !sealed.is_multiple_of(SEALED_CHUNK_LEN as u64) {
        return None;
    }
    let padded = sealed / SEALED_CHUNK_LEN as u64 * CHUNK_LEN as u64;
    is_bucket(padded).then_some(padded)
}

/// The nonce of chunk `index`: the index as 11 octets big-endian, then 0x01
/// for the last chunk and 0x00 for the others (age's STREAM).
pub fn nonce(index: u64, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    n
}

fn check_sizes(real_len: u64, padded_len: u64) -> Result<u64, StreamError> {
    if !is_bucket(padded_len) || real_len > padded_len {
        return Err(StreamError::BadSizes);
    }
    Ok(padded_len / CHUNK_LEN as u64)
}

/// Octets of the file in chunk `index` of a stream of `real_len` octets.
fn real_in_chunk(real_len: u64, index: u64) -> usize {
    let start = index * CHUNK_LEN as u64;
    real_len.saturating_sub(start).min(CHUNK_LEN as u64) as usize
}

/// Seals a file chunk by chunk (FORMAT.md#sealing-an-attachment), so a sender
/// never holds more than one chunk of it.
pub struct Encryptor {
    cipher: ChaCha20Poly1305,
    real_len: u64,
    padded_len: u64,
    chunks: u64,
    next: u64,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("padded_len", &self.padded_len)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// Start sealing a file of `real_len` octets, padded to its smallest
    /// bucket.
    pub fn new(key: &StreamKey, real_len: u64) -> Result<Self, StreamError> {
        let padded_len = bucket_for(real_len)?;
        Self::with_bucket(key, real_len, padded_len)
    }

    /// Start sealing into a bucket larger than the smallest (a sender that
    /// hides more); `padded_len` must be a bucket of at least `real_len`.
    pub fn with_bucket(
        key: &StreamKey,
        real_len: u64,
        padded_len: u64,
    ) -> Result<Self, StreamError> {
        let chunks = check_sizes(real_len, padded_len)?;
        Ok(Self {
            cipher: key.cipher(),
            real_len,
            padded_len,
            chunks,
            next: 0,
        })
    }

    /// The padded size.
    pub fn padded_len(&self) -> u64 {
        self.padded_len
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// How many octets of the file the next chunk takes (0 once only padding
    /// is left, and after the last chunk).
    pub fn next_input_len(&self) -> usize {
        if self.next >= self.chunks {
            0
        } else {
            real_in_chunk(self.real_len, self.next)
        }
    }

    /// Whether every chunk has been sealed.
    pub fn is_done(&self) -> bool {
        self.next >= self.chunks
    }

    /// Seal the next chunk: `data` is the next [`Encryptor::next_input_len`]
    /// octets of the file; zero padding is added here. Returns the
    /// 65552-octet sealed chunk.
    pub fn seal_next(&mut self, data: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut out = Vec::with_capacity(SEALED_CHUNK_LEN);
        self.seal_next_into(data, &mut out)?;
        Ok(out)
    }

    /// [`Encryptor::seal_next`], appending the sealed chunk to `out` (sealed
    /// in place there: no copy of the chunk but the one into `out`).
    pub fn seal_next_into(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), StreamError> {
        if self.next >= self.chunks {
            return Err(StreamError::TrailingData);
        }
        let expected = self.next_input_len();
        if data.len() != expected {
            return Err(StreamError::WrongChunkInput {
                index: self.next,
                expected,
                got: data.len(),
            });
        }
        let start = out.len();
        out.extend_from_slice(data);
        out.resize(start + CHUNK_LEN, 0);
        let last = self.next + 1 == self.chunks;
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &nonce(self.next, last).into(),
                &[],
                (&mut out[start..]).into(),
            )
            .expect("a 64 KiB chunk is within ChaCha20-Poly1305's limits");
        out.extend_from_slice(&tag);
        self.next += 1;
        Ok(())
    }
}

/// Seal a whole file held in memory (tests, vectors, small files). Senders
/// of large files use [`Encryptor`] chunk by chunk.
pub fn seal(key: &StreamKey, file: &[u8]) -> Result<Vec<u8>, StreamError> {
    let mut enc = Encryptor::new(key, file.len() as u64)?;
    let mut out = Vec::with_capacity(sealed_len(enc.padded_len()) as usize);
    let mut at = 0;
    while !enc.is_done() {
        let n = enc.next_input_len();
        enc.seal_next_into(&file[at..at + n], &mut out)?;
        at += n;
    }
    Ok(out)
}

/// Opens a sealed attachment chunk by chunk (FORMAT.md#opening-an-attachment).
/// Behind the `open` feature, like opening envelopes: the server, which never
/// decrypts, is built without it (FORMAT.md#no-decryption-in-the-server).
#[cfg(feature = "open")]
/// The sizes come from the sealed payload that lists the attachment, never
/// from the blob.
pub struct Decryptor {
    cipher: ChaCha20Poly1305,
    real_len: u64,
    chunks: u64,
    next: u64,
}

#[cfg(feature = "open")]
impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("chunks", &self.chunks)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "open")]
impl Decryptor {
    /// Start opening an attachment of `real_len` octets padded to
    /// `padded_len` (both from the payload).
    pub fn new(key: &StreamKey, real_len: u64, padded_len: u64) -> Result<Self, StreamError> {
        let chunks = check_sizes(real_len, padded_len)?;
        Ok(Self {
            cipher: key.cipher(),
            real_len,
            chunks,
            next: 0,
        })
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// Open the next sealed chunk in place and return the file's octets in
    /// it (empty for a chunk of padding only). Nothing is returned from a
    /// chunk that fails.
    pub fn open_next<'a>(&mut self, chunk: &'a mut [u8]) -> Result<&'a [u8], StreamError> {
        if self.next >= self.chunks {
            return Err(StreamError::TrailingData);
        }
        if chunk.len() != SEALED_CHUNK_LEN {
            return Err(StreamError::ChunkLength { index: self.next });
        }
        let (body, tag) = chunk.split_at_mut(CHUNK_LEN);
        let real = self.open_body(body, tag)?;
        Ok(&body[..real])
    }

    /// Decrypt the next chunk's 65536-octet `body` in place against its
    /// `tag`, check its padding, and return how many of its octets are the
    /// file's.
    fn open_body(&mut self, body: &mut [u8], tag: &[u8]) -> Result<usize, StreamError> {
        let index = self.next;
        let tag = chacha20poly1305::Tag::try_from(tag).expect("16-byte tag");
        let last = index + 1 == self.chunks;
        self.cipher
            .decrypt_inout_detached(&nonce(index, last).into(), &[], (&mut *body).into(), &tag)
            .map_err(|_| StreamError::ChunkFailed { index })?;
        let real = real_in_chunk(self.real_len, index);
        if body[real..].iter().any(|&b| b != 0) {
            body.zeroize();
            return Err(StreamError::NonzeroPadding);
        }
        self.next += 1;
        Ok(real)
    }

    /// Check that the last chunk has been opened.
    pub fn finish(&self) -> Result<(), StreamError> {
        if self.next < self.chunks {
            return Err(StreamError::Truncated {
                expected: self.chunks,
                got: self.next,
            });
        }
        Ok(())
    }
}

#[cfg(feature = "open")]
/// Open a whole sealed attachment held in memory: its length first, then
/// every chunk in order. Returns the file's `real_len` octets.
pub fn open(
    key: &StreamKey,
    real_len: u64,
    padded_len: u64,
    sealed: &[u8],
) -> Result<Vec<u8>, StreamError> {
    let mut dec = Decryptor::new(key, real_len, padded_len)?;
    let expected = sealed_len(padded_len);
    if sealed.len() as u64 != expected {
        return Err(StreamError::BadLength {
            expected,
            got: sealed.len() as u64,
        });
    }
    // Each chunk is copied once, into its place in the output, and opened
    // there; its padding is then cut off.
    let mut out = Vec::with_capacity(padded_len.min(real_len + CHUNK_LEN as u64) as usize);
    for chunk in sealed.chunks(SEALED_CHUNK_LEN) {
        let start = out.len();
        out.extend_from_slice(&chunk[..CHUNK_LEN]);
        match dec.open_body(&mut out[start..], &chunk[CHUNK_LEN..]) {
            Ok(real) => out.truncate(start + real),
            Err(e) => {
                out.zeroize();
                return Err(e);
            }
        }
    }
    dec.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> StreamKey {
        StreamKey::from_bytes([b; 32])
    }

    fn file(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn buckets_are_powers_of_two_from_64_kib() {
        assert_eq!(bucket_for(0).unwrap(), 65536);
        assert_eq!(bucket_for(65536).unwrap(), 65536);
        assert_eq!(bucket_for(65537).unwrap(), 131072);
        assert_eq!(bucket_for(250_000_000).unwrap(), 1 << 28);
        assert_eq!(bucket_for(MAX_BUCKET).unwrap(), MAX_BUCKET);
        assert_eq!(
            bucket_for(MAX_BUCKET + 1).unwrap_err(),
            StreamError::TooLarge
        );
        assert_eq!(sealed_len(131072), 131104);
        assert_eq!(padded_len_of(131104), Some(131072));
        assert_eq!(
            padded_len_of(3 * 65552),
            None,
            "three chunks is not a bucket"
        );
        assert_eq!(padded_len_of(131103), None);
        assert_eq!(padded_len_of(0), None);
        assert_eq!(padded_len_of(sealed_len(MAX_BUCKET * 2)), None);
    }

    #[test]
    fn nonce_is_an_11_byte_counter_and_the_last_flag() {
        assert_eq!(nonce(0, false), [0; 12]);
        assert_eq!(nonce(1, true), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(nonce(0x0102, false)[9..], [1, 2, 0]);
    }

    #[test]
    #[cfg(feature = "open")]
    fn round_trips_and_pads_with_zeros() {
        for n in [0, 1, 65535, 65536, 65537, 200_000] {
            let f = file(n);
            let sealed = seal(&key(1), &f).unwrap();
            let padded = bucket_for(n as u64).unwrap();
            assert_eq!(sealed.len() as u64, sealed_len(padded));
            assert_eq!(open(&key(1), n as u64, padded, &sealed).unwrap(), f);
            assert_eq!(
                open(&key(2), n as u64, padded, &sealed).unwrap_err().code(),
                "chunk_failed"
            );
        }
    }

    #[test]
    fn the_encryptor_refuses_the_wrong_input_and_extra_chunks() {
        let mut e = Encryptor::new(&key(1), 70_000).unwrap();
        assert_eq!(e.next_input_len(), 65536);
        assert_eq!(
            e.seal_next(&[0; 10]).unwrap_err().code(),
            "wrong_chunk_input"
        );
        e.seal_next(&file(65536)).unwrap();
        assert_eq!(e.next_input_len(), 70_000 - 65536);
        e.seal_next(&file(70_000 - 65536)).unwrap();
        assert!(e.is_done());
        assert_eq!(e.seal_next(&[]).unwrap_err().code(), "trailing_data");
    }

    #[test]
    #[cfg(feature = "open")]
    fn a_reader_refuses_sizes_that_do_not_fit() {
        let sealed = seal(&key(1), &file(10)).unwrap();
        assert_eq!(
            open(&key(1), 10, 65535, &sealed).unwrap_err().code(),
            "bad_sizes"
        );
        assert_eq!(
            open(&key(1), 70_000, 65536, &sealed).unwrap_err().code(),
            "bad_sizes"
        );
        assert_eq!(
            open(&key(1), 10, 3 * 65536, &sealed).unwrap_err().code(),
            "bad_sizes"
        );
        assert_eq!(
            open(&key(1), 10, 131072, &sealed).unwrap_err().code(),
            "bad_length"
        );
        // A larger real length in the right bucket: the padding it then reads
        // as the file is zero, but a smaller one exposes file octets as padding.
        assert_eq!(
            open(&key(1), 9, 65536, &sealed).unwrap_err().code(),
            "nonzero_padding"
        );
    }

    #[test]
    #[cfg(feature = "open")]
    fn streaming_detects_a_missing_last_chunk_and_trailing_chunks() {
        let sealed = seal(&key(1), &file(65537)).unwrap();
        let mut d = Decryptor::new(&key(1), 65537, 131072).unwrap();
        let mut first = sealed[..SEALED_CHUNK_LEN].to_vec();
        d.open_next(&mut first).unwrap();
        assert_eq!(d.finish().unwrap_err().code(), "truncated");
        let mut second = sealed[SEALED_CHUNK_LEN..].to_vec();
        d.open_next(&mut second).unwrap();
        d.finish().unwrap();
        let mut again = sealed[SEALED_CHUNK_LEN..].to_vec();
        assert_eq!(d.open_next(&mut again).unwrap_err().code(), "trailing_data");
        let mut short = vec![0u8; 100];
        let mut d = Decryptor::new(&key(1), 65537, 131072).unwrap();
        assert_eq!(d.open_next(&mut short).unwrap_err().code(), "bad_length");
    }

    #[test]
    fn key_debug_is_redacted() {
        assert_eq!(format!("{:?}", key(7)), "StreamKey(<redacted>)");
        assert!(!format!("{:?}", Encryptor::new(&key(7), 1).unwrap()).contains("07"));
    }
}
