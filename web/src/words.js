// The reply code's word list (BIP39 English, @scure/bip39), a bundle of its
// own (served as /words.js): the page needs it only once a reply code is
// made (sending a report) or typed (checking for replies), so it stays out of
// the first load (web/build.mjs budget). It registers itself as
// globalThis.QuietlineWords, which quietline-crypto.js reads, and which
// quietline-crypto.js's loadWords() fetches with a same-origin <script>.

import { wordlist } from "@scure/bip39/wordlists/english.js";

globalThis.QuietlineWords = wordlist;
