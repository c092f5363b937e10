//! Attachments on the force's side (crypto/FORMAT.md#opening-an-attachment):
//! checking a fetched blob against the entry the sealed payload lists for
//! it — its sizes, every chunk in order, and the SHA-256 of what was sent —
//! and saying what is wrong with one that fails.
//!
//! It owns the verdict on one blob. It does not fetch (the client does),
//! store (the vault does), decide who may read an attachment or write the
//! audit entry (the `Desk` does before anything decrypted leaves the
//! library), or look at what the file shows. The decrypted file is held in
//! memory that is erased when dropped.

use quietline_crypto::payload::{Attachment, AttachmentRef};
use quietline_crypto::stream::{self, Decryptor, SEALED_CHUNK_LEN, StreamError};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Why an attachment cannot be shown as the reporter's. Kept with the blob,
/// like an envelope's flag; never stops a pull.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentFlag {
    /// The payload's entry is malformed (the member named).
    #[error("the report's entry for this attachment is malformed ({0}); it cannot be opened")]
    Malformed(&'static str),
    /// The server does not hold the blob.
    #[error("the server does not hold this attachment (never uploaded whole, or already deleted)")]
    Missing,
    /// Shorter or longer than its sizes say.
    #[error("the attachment arrived incomplete or with data added ({0})")]
    Incomplete(String),
    /// A chunk failed to authenticate at its place, or its padding is not zero.
    #[error("the attachment was altered after sealing ({0}); do not trust any part of it")]
    Altered(String),
    /// Decrypted whole, but it is not the file the reporter's page sealed.
    #[error("the attachment decrypts, but its SHA-256 is not the one in the report")]
    HashMismatch,
}

impl AttachmentFlag {
    /// A stable code for the summary and the vault.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "attachment_malformed",
            Self::Missing => "attachment_missing",
            Self::Incomplete(_) => "attachment_incomplete",
            Self::Altered(_) => "attachment_altered",
            Self::HashMismatch => "attachment_hash_mismatch",
        }
    }
}

/// The entry checked, or why not.
pub fn decode(entry: &AttachmentRef) -> Result<Attachment, AttachmentFlag> {
    entry.decode().map_err(|e| match e {
        quietline_crypto::payload::PayloadError::Attachment(member) => {
            AttachmentFlag::Malformed(member)
        }
        _ => AttachmentFlag::Malformed("entry"),
    })
}

/// The sealed length the blob of `a` must have.
pub fn sealed_len(a: &Attachment) -> u64 {
    stream::sealed_len(a.padded_size)
}

fn flag_of(e: StreamError) -> AttachmentFlag {
    match e {
        StreamError::BadLength { .. }
        | StreamError::ChunkLength { .. }
        | StreamError::Truncated { .. }
        | StreamError::TrailingData => AttachmentFlag::Incomplete(e.code().to_owned()),
        StreamError::BadSizes | StreamError::TooLarge | StreamError::WrongChunkInput { .. } => {
            AttachmentFlag::Malformed("padded_size")
        }
        StreamError::ChunkFailed { index } => AttachmentFlag::Altered(format!("chunk {index}")),
        StreamError::NonzeroPadding => AttachmentFlag::Altered("nonzero padding".to_owned()),
    }
}

/// Opens one blob as its sealed octets arrive, in pieces of any size
/// (crypto/FORMAT.md#opening-an-attachment, the streaming reader): each
/// 65552-octet chunk is authenticated at its place and its padding checked
/// before its file octets are handed on, the whole is hashed, and
/// [`BlobOpener::finish`] checks the length and `sha256_sent`. It holds one
/// sealed chunk at a time, in memory erased when dropped, so a 250 MB blob
/// never sits in memory whole.
pub struct BlobOpener {
    dec: Decryptor,
    /// `None` for a blob read back from the vault, whose SHA-256 the pull
    /// checked (see [`BlobOpener::for_stored`]).
    hash: Option<Sha256>,
    sha256_sent: [u8; 32],
    chunk: Zeroizing<Vec<u8>>,
    received: u64,
    expected: u64,
}

impl std::fmt::Debug for BlobOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobOpener")
            .field("received", &self.received)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl BlobOpener {
    /// Start opening the blob of `a` (its sizes are checked here: step 1).
    pub fn new(a: &Attachment) -> Result<Self, AttachmentFlag> {
        let dec = Decryptor::new(&a.key, a.size, a.padded_size).map_err(flag_of)?;
        Ok(Self {
            dec,
            hash: Some(Sha256::new()),
            sha256_sent: a.sha256_sent,
            chunk: Zeroizing::new(Vec::with_capacity(SEALED_CHUNK_LEN)),
            received: 0,
            expected: stream::sealed_len(a.padded_size),
        })
    }

    /// Start opening a blob read back from the vault: the same checks but
    /// the SHA-256 (step 5), which the pull made before it stored the blob
    /// as whole. Why that is enough: every chunk still authenticates under
    /// the attachment's key at its place (step 3), so a vault changed at rest
    /// without the key cannot change, move, drop or add a chunk; the only
    /// blob that could pass is another one the reporter's page sealed under
    /// the same key, which a page never makes. Skipping it keeps a read at
    /// the speed of ChaCha20-Poly1305 (BENCHMARKS.md#attachments-issue-19).
    pub fn for_stored(a: &Attachment) -> Result<Self, AttachmentFlag> {
        let mut o = Self::new(a)?;
        o.hash = None;
        Ok(o)
    }

    /// Sealed octets the blob must have in all.
    pub fn expected_len(&self) -> u64 {
        self.expected
    }

    /// Sealed octets taken so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Take the next sealed octets; `file` gets the file's octets of every
    /// chunk that opened (nothing of a chunk that failed). More octets than
    /// the sizes allow is `Incomplete` at once.
    pub fn update(
        &mut self,
        mut data: &[u8],
        file: &mut dyn FnMut(&[u8]),
    ) -> Result<(), AttachmentFlag> {
        if self.received + data.len() as u64 > self.expected {
            return Err(AttachmentFlag::Incomplete(format!(
                "more than the {} bytes expected",
                self.expected
            )));
        }
        self.received += data.len() as u64;
        while !data.is_empty() {
            let take = (SEALED_CHUNK_LEN - self.chunk.len()).min(data.len());
            self.chunk.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.chunk.len() == SEALED_CHUNK_LEN {
                let real = self.dec.open_next(&mut self.chunk).map_err(flag_of)?;
                if let Some(h) = &mut self.hash {
                    h.update(real);
                }
                file(real);
                self.chunk.clear();
            }
        }
        Ok(())
    }

    /// [`BlobOpener::update`] for octets the caller owns and may lose: whole
    /// sealed chunks are opened in place in `data` (no copy), which is left
    /// holding the file's octets and zeroed padding. Anything else goes
    /// through [`BlobOpener::update`].
    pub fn update_in_place(
        &mut self,
        data: &mut [u8],
        file: &mut dyn FnMut(&[u8]),
    ) -> Result<(), AttachmentFlag> {
        if !self.chunk.is_empty() || !data.len().is_multiple_of(SEALED_CHUNK_LEN) {
            return self.update(data, file);
        }
        if self.received + data.len() as u64 > self.expected {
            return Err(AttachmentFlag::Incomplete(format!(
                "more than the {} bytes expected",
                self.expected
            )));
        }
        self.received += data.len() as u64;
        for chunk in data.chunks_mut(SEALED_CHUNK_LEN) {
            let real = self.dec.open_next(chunk).map_err(flag_of)?;
            if let Some(h) = &mut self.hash {
                h.update(real);
            }
            file(real);
        }
        Ok(())
    }

    /// Every chunk arrived and opened, and the file is the one the payload
    /// names (steps 2 and 5).
    pub fn finish(self) -> Result<(), AttachmentFlag> {
        if self.received != self.expected {
            return Err(AttachmentFlag::Incomplete(format!(
                "{} bytes, {} expected",
                self.received, self.expected
            )));
        }
        self.dec.finish().map_err(flag_of)?;
        if let Some(h) = self.hash
            && <[u8; 32]>::from(h.finalize()) != self.sha256_sent
        {
            return Err(AttachmentFlag::HashMismatch);
        }
        Ok(())
    }
}

/// Check a fetched blob held in memory against its entry
/// (crypto/FORMAT.md#opening-an-attachment, steps 1–5), chunk by chunk, and
/// return the file. `None` for `blob` is a blob the server does not hold.
pub fn verify(a: &Attachment, blob: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, AttachmentFlag> {
    let blob = blob.ok_or(AttachmentFlag::Missing)?;
    let mut opener = BlobOpener::new(a)?;
    let expected = opener.expected_len();
    if blob.len() as u64 != expected {
        return Err(AttachmentFlag::Incomplete(format!(
            "{} bytes, {expected} expected",
            blob.len()
        )));
    }
    let mut file = Zeroizing::new(Vec::with_capacity(a.size as usize));
    opener.update(blob, &mut |real| file.extend_from_slice(real))?;
    opener.finish()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use quietline_crypto::stream::StreamKey;

    fn entry(file: &[u8], key: [u8; 32]) -> AttachmentRef {
        let padded = stream::bucket_for(file.len() as u64).unwrap();
        let sha = hex::encode(Sha256::digest(file));
        AttachmentRef {
            id: "00112233445566778899aabbccddeeff".into(),
            key: URL_SAFE_NO_PAD.encode(key),
            size: file.len() as u64,
            padded_size: padded,
            media_type: "image/jpeg".into(),
            sha256_original: sha.clone(),
            sha256_sent: sha,
            metadata_found: vec![],
            metadata_removed: vec![],
        }
    }

    fn photo() -> Vec<u8> {
        (0..150_000u32).map(|i| (i % 241) as u8).collect()
    }

    #[test]
    fn a_good_blob_gives_the_file() {
        let f = photo();
        let blob = stream::seal(&StreamKey::from_bytes([3; 32]), &f).unwrap();
        let a = decode(&entry(&f, [3; 32])).unwrap();
        assert_eq!(sealed_len(&a), blob.len() as u64);
        assert_eq!(&*verify(&a, Some(&blob)).unwrap(), &f);
    }

    #[test]
    fn each_fault_has_its_flag() {
        let f = photo();
        let blob = stream::seal(&StreamKey::from_bytes([3; 32]), &f).unwrap();
        let a = decode(&entry(&f, [3; 32])).unwrap();
        assert_eq!(verify(&a, None).unwrap_err(), AttachmentFlag::Missing);
        assert_eq!(
            verify(&a, Some(&blob[..blob.len() - SEALED_CHUNK_LEN]))
                .unwrap_err()
                .code(),
            "attachment_incomplete"
        );
        let mut flipped = blob.clone();
        flipped[SEALED_CHUNK_LEN + 5] ^= 1;
        assert_eq!(
            verify(&a, Some(&flipped)).unwrap_err(),
            AttachmentFlag::Altered("chunk 1".into())
        );
        let mut swapped = blob.clone();
        swapped.copy_within(0..SEALED_CHUNK_LEN, SEALED_CHUNK_LEN);
        assert_eq!(
            verify(&a, Some(&swapped)).unwrap_err().code(),
            "attachment_altered"
        );
        // Another file under the same key (which a page never makes): only
        // the payload's SHA-256 tells.
        let other: Vec<u8> = photo().iter().map(|b| b ^ 1).collect();
        let other_blob = stream::seal(&StreamKey::from_bytes([3; 32]), &other).unwrap();
        assert_eq!(
            verify(&a, Some(&other_blob)).unwrap_err(),
            AttachmentFlag::HashMismatch
        );
        // The wrong key in the payload.
        let wrong = decode(&entry(&f, [4; 32])).unwrap();
        assert_eq!(
            verify(&wrong, Some(&blob)).unwrap_err(),
            AttachmentFlag::Altered("chunk 0".into())
        );
        let mut bad = entry(&f, [3; 32]);
        bad.key = "short".into();
        assert_eq!(decode(&bad).unwrap_err(), AttachmentFlag::Malformed("key"));
        // Messages name what failed, never the key or the file.
        for flag in [
            AttachmentFlag::Missing,
            AttachmentFlag::HashMismatch,
            AttachmentFlag::Malformed("key"),
        ] {
            assert!(!flag.to_string().contains(&entry(&f, [3; 32]).key));
        }
    }

    #[test]
    fn streaming_in_odd_pieces_gives_the_same_verdicts() {
        let f = photo();
        let blob = stream::seal(&StreamKey::from_bytes([3; 32]), &f).unwrap();
        let a = decode(&entry(&f, [3; 32])).unwrap();
        let run = |bytes: &[u8]| -> Result<Vec<u8>, AttachmentFlag> {
            let mut o = BlobOpener::new(&a)?;
            let mut out = Vec::new();
            for piece in bytes.chunks(10_007) {
                o.update(piece, &mut |real| out.extend_from_slice(real))?;
            }
            o.finish()?;
            Ok(out)
        };
        assert_eq!(run(&blob).unwrap(), f);
        // Truncated at a chunk boundary and mid-chunk.
        assert_eq!(
            run(&blob[..SEALED_CHUNK_LEN]).unwrap_err().code(),
            "attachment_incomplete"
        );
        assert_eq!(
            run(&blob[..blob.len() - 3]).unwrap_err().code(),
            "attachment_incomplete"
        );
        // Data added after the last chunk.
        let mut longer = blob.clone();
        longer.extend_from_slice(&[0; 5]);
        assert_eq!(run(&longer).unwrap_err().code(), "attachment_incomplete");
        // Altered: the first failing chunk is named; nothing of it came out.
        let mut flipped = blob.clone();
        flipped[2 * SEALED_CHUNK_LEN + 1] ^= 0x80;
        let mut o = BlobOpener::new(&a).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            o.update(&flipped, &mut |real| out.extend_from_slice(real))
                .unwrap_err(),
            AttachmentFlag::Altered("chunk 2".into())
        );
        assert_eq!(out, f[..2 * 65536]);
        // A missing blob.
        assert_eq!(verify(&a, None).unwrap_err().code(), "attachment_missing");
        // In place, whole chunks: the same file, the same verdicts.
        for hashing in [true, false] {
            let mut o = if hashing {
                BlobOpener::new(&a).unwrap()
            } else {
                BlobOpener::for_stored(&a).unwrap()
            };
            let mut copy = blob.clone();
            let mut out = Vec::new();
            o.update_in_place(&mut copy, &mut |real| out.extend_from_slice(real))
                .unwrap();
            o.finish().unwrap();
            assert_eq!(out, f);
        }
        let mut copy = flipped.clone();
        assert_eq!(
            BlobOpener::for_stored(&a)
                .unwrap()
                .update_in_place(&mut copy, &mut |_| {})
                .unwrap_err(),
            AttachmentFlag::Altered("chunk 2".into())
        );
    }
}
