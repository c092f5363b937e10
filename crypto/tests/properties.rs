//! Property tests (FORMAT.md#security-properties): round trips, every
//! single-bit flip rejected, wrong keys rejected, the all-zero key refused,
//! and arbitrary bytes never panicking the parsers.

use proptest::prelude::*;
use quietline_crypto::envelope::{Kind, parse};
use quietline_crypto::keyfile::key_file_info;
use quietline_crypto::keys::{PublicKey, derive_keypair};
use quietline_crypto::open::open;
use quietline_crypto::payload::Payload;
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn report_round_trip(seed in any::<[u8; 32]>(), payload in proptest::collection::vec(any::<u8>(), 0..5000), force in "[a-z0-9-]{1,64}") {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let (sk, pk) = quietline_crypto::keys::generate_keypair(&mut rng);
        let env = seal_report(&mut rng, &force, &pk, &payload).unwrap();
        let opened = open(&sk, Kind::Report, &env).unwrap();
        prop_assert_eq!(opened.as_slice(), payload.as_slice());
        let (other, _) = quietline_crypto::keys::generate_keypair(&mut rng);
        prop_assert_eq!(open(&other, Kind::Report, &env).unwrap_err().code(), "wrong_key");
        prop_assert_eq!(open(&sk, Kind::Reply, &env).unwrap_err().code(), "wrong_kind");
    }

    #[test]
    fn copy_round_trip_only_opens_with_its_own_code(entropy in any::<[u8; 16]>(), other in any::<[u8; 16]>(), seq in any::<u32>(), after in any::<u32>(), message in ".{0,400}", xwing in any::<bool>()) {
        use quietline_crypto::copy::{OwnCopy, copy_box, open_copy, seal_copy};
        use quietline_crypto::keys::Suite;
        use quietline_crypto::payload::{Common, FollowUp, ReplyMaterial};
        prop_assume!(entropy != other);
        let code = ReplyCode::from_entropy(entropy);
        let suite = if xwing { Suite::XWing } else { Suite::X25519 };
        let copy = OwnCopy {
            common: Common { v: 1, sent_at: "2026-12-07T03:00:00Z".into(), lang: "cy".into() },
            seq,
            after_replies: after,
            sent: Payload::FollowUp(FollowUp {
                common: Common { v: 1, sent_at: "2026-12-07T03:00:00Z".into(), lang: "cy".into() },
                message,
                attachments: vec![],
                reply: ReplyMaterial::from_secrets(&code.derive_for(suite)),
                transfer: None,
            }),
        };
        let mut rng = ChaCha20Rng::from_seed([entropy[1]; 32]);
        let env = seal_copy(&mut rng, &code, suite, &copy).unwrap();
        prop_assert_eq!(open_copy(&code, &env).unwrap(), copy);
        // Another code: another box, and another key.
        prop_assert!(open_copy(&ReplyCode::from_entropy(other), &env).is_err());
        // The box is none of the code's first reply slots.
        let slots = code.derive().slot_key;
        for i in 0..8 {
            prop_assert_ne!(copy_box(&code), slots.address(i));
        }
        // Not readable as a reply (the page refuses it in a reply slot).
        let payload = open(&code.derive_for(suite).reply_sk, Kind::Reply, &env).unwrap();
        prop_assert!(Payload::from_json(&payload).is_err());
    }

    #[test]
    fn conversation_order_puts_each_copy_between_the_replies_it_had_seen(replies in 0u32..20, copies in proptest::collection::vec((0u32..25, any::<u32>()), 0..20)) {
        use quietline_crypto::copy::{Place, order};
        let mut items: Vec<Place> = (0..replies).map(Place::Reply).collect();
        items.extend(copies.iter().map(|&(after_replies, seq)| Place::Copy { after_replies, seq }));
        items.reverse();
        order(&mut items, |p| *p);
        // Replies stay in slot order.
        let slots: Vec<u32> = items.iter().filter_map(|p| if let Place::Reply(i) = p { Some(*i) } else { None }).collect();
        prop_assert_eq!(slots, (0..replies).collect::<Vec<_>>());
        for (at, p) in items.iter().enumerate() {
            if let Place::Copy { after_replies, seq } = *p {
                let before = items[..at].iter().filter(|q| matches!(q, Place::Reply(_))).count() as u32;
                prop_assert_eq!(before, after_replies.min(replies));
                // Copies between the same two replies rise by seq.
                if let Some(Place::Copy { after_replies: a2, seq: s2 }) = items.get(at + 1)
                    && *a2 == after_replies
                {
                    prop_assert!(*s2 >= seq);
                }
            }
        }
    }

    #[test]
    fn reply_round_trip(entropy in any::<[u8; 16]>(), i in 0u32..1000, payload in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let s = ReplyCode::from_entropy(entropy).derive();
        let mut rng = ChaCha20Rng::from_seed([entropy[0]; 32]);
        let env = seal_reply(&mut rng, s.slot_key.address(i), &s.reply_pk, &payload).unwrap();
        let opened = open(&s.reply_sk, Kind::Reply, &env).unwrap();
        prop_assert_eq!(opened.as_slice(), payload.as_slice());
        let code = ReplyCode::from_mnemonic(&ReplyCode::from_entropy(entropy).to_mnemonic()).unwrap();
        prop_assert_eq!(code.entropy(), &entropy);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse(&bytes);
        let (sk, _) = derive_keypair(&[1; 32]);
        let _ = open(&sk, Kind::Report, &bytes);
        let _ = Payload::from_json(&bytes);
        let _ = key_file_info(&String::from_utf8_lossy(&bytes));
        let _ = ReplyCode::from_mnemonic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..1200), l in 0u8..80, kind in 0u8..4) {
        let mut b = vec![b'Q', b'L', 1, kind, 0, 0x20, 0, 1, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, l];
        b.extend_from_slice(&tail);
        let _ = parse(&b);
        let (sk, _) = derive_keypair(&[1; 32]);
        let _ = open(&sk, Kind::Report, &b);
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let (sk, pk) = derive_keypair(&[5; 32]);
    let env = seal_report(&mut rng, "demo", &pk, b"{\"v\":1}").unwrap();
    assert!(open(&sk, Kind::Report, &env).is_ok());
    // Header, enc and ciphertext: every bit of every byte.
    for i in 0..env.len() {
        for bit in 0..8 {
            let mut e = env.clone();
            e[i] ^= 1 << bit;
            assert!(
                open(&sk, Kind::Report, &e).is_err(),
                "flip of bit {bit} in byte {i} was accepted"
            );
        }
    }
}

#[test]
fn all_zero_public_key_is_refused() {
    assert!(PublicKey::from_bytes(&[0u8; 32]).is_err());
    // A low-order point other than zero is refused by HPKE at sealing time.
    let mut one = [0u8; 32];
    one[0] = 1;
    let pk = PublicKey::from_bytes(&one).unwrap();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    assert!(seal_report(&mut rng, "demo", &pk, b"x").is_err());
}

#[test]
fn oversized_payload_is_refused() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let (_, pk) = derive_keypair(&[5; 32]);
    assert!(seal_report(&mut rng, "demo", &pk, &vec![0u8; 65533]).is_err());
    assert!(seal_report(&mut rng, "demo", &pk, &vec![0u8; 65532]).is_ok());
    assert!(seal_report(&mut rng, "Demo", &pk, b"x").is_err());
}

/// Attachment streams (FORMAT.md#attachments): every way of cutting,
/// reordering, repeating, dropping, mixing or flipping sealed chunks is refused.
mod stream_properties {
    use proptest::prelude::*;
    use quietline_crypto::stream::{self, Decryptor, SEALED_CHUNK_LEN, StreamError, StreamKey};

    const C: usize = SEALED_CHUNK_LEN;

    fn file(n: usize, salt: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(13).wrapping_add(salt))
            .collect()
    }

    /// A four-chunk stream (the last chunk partly padding) and its sizes.
    fn four() -> (StreamKey, Vec<u8>, u64, u64) {
        let key = StreamKey::from_bytes([9; 32]);
        let len = 3 * 65536 + 500;
        let sealed = stream::seal(&key, &file(len, 1)).unwrap();
        assert_eq!(sealed.len(), 4 * C);
        (key, sealed, len as u64, 4 * 65536)
    }

    fn chunks(sealed: &[u8]) -> Vec<Vec<u8>> {
        sealed.chunks(C).map(<[u8]>::to_vec).collect()
    }

    /// Open chunk by chunk as a streaming reader does, to the end.
    fn stream_open(
        key: &StreamKey,
        len: u64,
        padded: u64,
        parts: &[Vec<u8>],
    ) -> Result<Vec<u8>, StreamError> {
        let mut d = Decryptor::new(key, len, padded)?;
        let mut out = Vec::new();
        for p in parts {
            let mut p = p.clone();
            out.extend_from_slice(d.open_next(&mut p)?);
        }
        d.finish()?;
        Ok(out)
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut all = Vec::new();
        for p in permutations(n - 1) {
            for at in 0..=p.len() {
                let mut q = p.clone();
                q.insert(at, n - 1);
                all.push(q);
            }
        }
        all
    }

    #[test]
    fn every_reorder_is_refused() {
        let (key, sealed, len, padded) = four();
        let parts = chunks(&sealed);
        let perms = permutations(4);
        assert_eq!(perms.len(), 24);
        for p in perms {
            let reordered: Vec<Vec<u8>> = p.iter().map(|&i| parts[i].clone()).collect();
            let joined = reordered.concat();
            let identity = p == [0, 1, 2, 3];
            assert_eq!(
                stream::open(&key, len, padded, &joined).is_ok(),
                identity,
                "{p:?}"
            );
            assert_eq!(
                stream_open(&key, len, padded, &reordered).is_ok(),
                identity,
                "{p:?}"
            );
        }
    }

    #[test]
    fn every_duplicate_and_every_drop_is_refused() {
        let (key, sealed, len, padded) = four();
        let parts = chunks(&sealed);
        for from in 0..4 {
            for to in 0..4 {
                if from == to {
                    continue;
                }
                let mut p = parts.clone();
                p[to] = parts[from].clone();
                assert_eq!(
                    stream::open(&key, len, padded, &p.concat())
                        .unwrap_err()
                        .code(),
                    "chunk_failed"
                );
                assert_eq!(
                    stream_open(&key, len, padded, &p).unwrap_err().code(),
                    "chunk_failed"
                );
            }
            // The chunk repeated in addition to the others, at every place.
            for at in 0..=4 {
                let mut p = parts.clone();
                p.insert(at, parts[from].clone());
                assert_eq!(
                    stream::open(&key, len, padded, &p.concat())
                        .unwrap_err()
                        .code(),
                    "bad_length"
                );
                assert!(
                    stream_open(&key, len, padded, &p).is_err(),
                    "{from} at {at}"
                );
            }
            let mut dropped = parts.clone();
            dropped.remove(from);
            assert_eq!(
                stream::open(&key, len, padded, &dropped.concat())
                    .unwrap_err()
                    .code(),
                "bad_length"
            );
            assert!(
                stream_open(&key, len, padded, &dropped).is_err(),
                "drop {from}"
            );
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        let (key, sealed, len, padded) = four();
        let parts = chunks(&sealed);
        // At every chunk boundary, read as a stream: the last chunk is missing.
        for keep in 0..4 {
            assert_eq!(
                stream_open(&key, len, padded, &parts[..keep]).unwrap_err(),
                StreamError::Truncated {
                    expected: 4,
                    got: keep as u64
                }
            );
        }
        // Every shorter length of a two-chunk blob, whole and streamed.
        let key2 = StreamKey::from_bytes([3; 32]);
        let two = stream::seal(&key2, &file(70_000, 2)).unwrap();
        for cut in 0..two.len() {
            let t = &two[..cut];
            assert_eq!(
                stream::open(&key2, 70_000, 131_072, t).unwrap_err().code(),
                "bad_length"
            );
            if cut % 997 == 0 || cut % C == 0 || cut % C == C - 1 {
                let p: Vec<Vec<u8>> = t.chunks(C).map(<[u8]>::to_vec).collect();
                assert!(
                    stream_open(&key2, 70_000, 131_072, &p).is_err(),
                    "cut at {cut}"
                );
            }
        }
        // Cut to whole chunks and presented with a smaller bucket: the last
        // flag is missing, so the new last chunk fails.
        let one = &sealed[..2 * C];
        assert_eq!(
            stream::open(&key, 2 * 65536, 2 * 65536, one).unwrap_err(),
            StreamError::ChunkFailed { index: 1 }
        );
    }

    #[test]
    fn a_chunk_from_another_attachment_is_refused_at_every_place() {
        let (key, sealed, len, padded) = four();
        let other = stream::seal(&StreamKey::from_bytes([10; 32]), &file(len as usize, 1)).unwrap();
        let same_key_other_file = stream::seal(&key, &file(len as usize, 2)).unwrap();
        for i in 0..4 {
            for foreign in [&other, &same_key_other_file] {
                let mut s = sealed.clone();
                s[i * C..(i + 1) * C].copy_from_slice(&foreign[i * C..(i + 1) * C]);
                if foreign == &same_key_other_file {
                    // Same key and position: STREAM cannot tell the files
                    // apart (FORMAT.md#attachment-security); a fresh key per
                    // attachment is what makes mixing detectable, and the
                    // payload's SHA-256 of what was sent catches the rest.
                    let opened = stream::open(&key, len, padded, &s).unwrap();
                    assert_ne!(opened, file(len as usize, 1));
                    continue;
                }
                assert_eq!(
                    stream::open(&key, len, padded, &s).unwrap_err(),
                    StreamError::ChunkFailed { index: i as u64 }
                );
            }
        }
    }

    #[test]
    fn every_bit_of_every_tag_and_chunk_edge_is_protected() {
        let (key, sealed, len, padded) = four();
        for chunk in 0..4 {
            let edges = (chunk * C..chunk * C + 32).chain((chunk + 1) * C - 48..(chunk + 1) * C);
            for at in edges {
                for bit in 0..8 {
                    let mut s = sealed.clone();
                    s[at] ^= 1 << bit;
                    assert_eq!(
                        stream::open(&key, len, padded, &s).unwrap_err(),
                        StreamError::ChunkFailed {
                            index: chunk as u64
                        },
                        "octet {at} bit {bit}"
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn round_trip(key in any::<[u8; 32]>(), len in 0usize..300_000, salt in any::<u8>()) {
            let key = StreamKey::from_bytes(key);
            let f = file(len, salt);
            let sealed = stream::seal(&key, &f).unwrap();
            let padded = stream::bucket_for(len as u64).unwrap();
            prop_assert_eq!(sealed.len() as u64, stream::sealed_len(padded));
            prop_assert_eq!(stream::padded_len_of(sealed.len() as u64), Some(padded));
            prop_assert!(padded >= len as u64 && (padded == 65536 || padded < 2 * len as u64));
            prop_assert_eq!(stream::open(&key, len as u64, padded, &sealed).unwrap(), f);
        }

        #[test]
        fn any_bit_flip_is_refused(at in 0usize..(2 * C), bit in 0u8..8) {
            let key = StreamKey::from_bytes([4; 32]);
            let mut sealed = stream::seal(&key, &file(100_000, 3)).unwrap();
            sealed[at] ^= 1 << bit;
            prop_assert_eq!(
                stream::open(&key, 100_000, 131_072, &sealed).unwrap_err(),
                StreamError::ChunkFailed { index: (at / C) as u64 }
            );
        }

        #[test]
        fn arbitrary_sealed_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000), len in any::<u64>(), padded in any::<u64>()) {
            let key = StreamKey::from_bytes([5; 32]);
            let _ = stream::open(&key, len, padded, &bytes);
            if let Ok(mut d) = Decryptor::new(&key, len, padded) {
                let mut b = bytes.clone();
                let _ = d.open_next(&mut b);
            }
            let _ = stream::padded_len_of(len);
            let _ = stream::bucket_for(len);
        }
    }
}
