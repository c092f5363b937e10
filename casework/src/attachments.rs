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

/// Check a fetched blob against its entry (crypto/FORMAT.md#opening-an-attachment,
/// steps 1–5), chunk by chunk, and return the file. `None` for `blob` is a
/// blob the server does not hold.
pub fn verify(a: &Attachment, blob: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, AttachmentFlag> {
    let blob = blob.ok_or(AttachmentFlag::Missing)?;
    let mut dec = Decryptor::new(&a.key, a.size, a.padded_size).map_err(flag_of)?;
    let expected = stream::sealed_len(a.padded_size);
    if blob.len() as u64 != expected {
        return Err(AttachmentFlag::Incomplete(format!(
            "{} bytes, {expected} expected",
            blob.len()
        )));
    }
    let mut file = Zeroizing::new(Vec::with_capacity(a.size as usize));
    let mut chunk = Zeroizing::new(vec![0u8; SEALED_CHUNK_LEN]);
    let mut hash = Sha256::new();
    for sealed in blob.chunks(SEALED_CHUNK_LEN) {
        chunk.copy_from_slice(sealed);
        let real = dec.open_next(&mut chunk).map_err(flag_of)?;
        hash.update(real);
        file.extend_from_slice(real);
    }
    dec.finish().map_err(flag_of)?;
    if <[u8; 32]>::from(hash.finalize()) != a.sha256_sent {
        return Err(AttachmentFlag::HashMismatch);
    }
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
}
