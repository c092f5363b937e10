// esbuild options shared by build.mjs and the bundle test, so the tests run
// the same transformed code the page ships.

/** Browsers of the last several years, including Tor Browser on Firefox ESR
 * 102 and later, and Safari/iOS 15. BigInt (pure-JS X25519) needs ES2020. */
export const TARGET = ["es2020", "firefox102", "chrome90", "safari15", "edge90"];

/**
 * One SHA-256 in the bundle instead of two: @scure/bip39 (checksum) imports
 * it from @noble/hashes, @hpke/common (HMAC fallback) ships its own copy of
 * the same noble code. Point bip39 at the @hpke/common one. If either package
 * changes what it imports or exports, esbuild fails the build ("No matching
 * export"), and the bundle test re-runs the reply-code vectors through it.
 * Only bip39's import is redirected: the proof-of-work worker (src/pow.js)
 * is a bundle of its own and takes @noble/hashes itself.
 */
export const oneSha256 = {
  name: "one-sha256",
  setup(build) {
    build.onResolve({ filter: /^@noble\/hashes\/sha2\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]@scure[\\/]bip39[\\/]/.test(args.importer)) return undefined;
      return { path: "sha2.js", namespace: "one-sha256", pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: "one-sha256" }, (args) => ({
      contents: 'export { sha256, sha512 } from "@hpke/common";',
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};

/**
 * The BIP39 English word list, front-coded: each word is written as the
 * number of leading letters it shares with the word before it (always one
 * digit) and the rest ("0abandon2ility2le…"). Sorted lists compress much
 * better this way (about 4.4 KB gzipped instead of 6.4 KB). The text is made at
 * build time from @scure/bip39's own list, and the build fails unless it
 * decodes back to exactly that list, so nothing hand-copied is shipped.
 */
export const compactWordlist = {
  name: "compact-wordlist",
  setup(build) {
    build.onResolve({ filter: /^@scure\/bip39\/wordlists\/english\.js$/ }, () => ({
      path: "english.js",
      namespace: "compact-wordlist",
    }));
    build.onLoad({ filter: /.*/, namespace: "compact-wordlist" }, async () => {
      const { wordlist } = await import("@scure/bip39/wordlists/english.js");
      const packed = frontCode(wordlist);
      const decoded = frontDecode(packed);
      if (decoded.length !== 2048 || decoded.join("\n") !== wordlist.join("\n")) {
        throw new Error("the front-coded word list does not decode to the BIP39 English list");
      }
      return {
        contents: `const packed = ${JSON.stringify(packed)};\nexport const wordlist = (${frontDecode.toString()})(packed);\n`,
        loader: "js",
      };
    });
  },
};

/** Front-code a sorted word list: shared-prefix length (one digit) then the rest. */
export function frontCode(words) {
  let prev = "";
  let out = "";
  for (const w of words) {
    if (!/^[a-z]+$/.test(w)) throw new Error(`unexpected word ${w}`);
    let n = 0;
    while (n < prev.length && n < w.length && prev[n] === w[n]) n++;
    if (n > 9 || n === w.length) throw new Error(`cannot front-code ${w} after ${prev}`);
    out += n + w.slice(n);
    prev = w;
  }
  return out;
}

/** Undo frontCode. Shipped in the bundle, so kept small and self-contained. */
export function frontDecode(packed) {
  const words = [];
  let prev = "";
  for (const m of packed.matchAll(/(\d)([a-z]+)/g)) {
    prev = prev.slice(0, +m[1]) + m[2];
    words.push(prev);
  }
  return words;
}

/** Options for bundling a JS entry point for the browser. */
export function jsOptions(root) {
  return {
    absWorkingDir: root,
    bundle: true,
    platform: "browser",
    target: TARGET,
    minify: true,
    legalComments: "none",
    charset: "utf8",
    sourcemap: false,
    write: false,
    // @hpke/common falls back to `import("crypto")` on Node <= 18 only; in a
    // browser globalThis.crypto is always there, so that import stays external.
    external: ["crypto"],
    plugins: [oneSha256, compactWordlist],
    logLevel: "warning",
  };
}
