// UTF-8 helpers shared by string builtins (Go's strings package works on runes).
import { utf8SeqLen } from "../json";

/** Byte length of the rune at p (invalid bytes count as one rune, like Go). */
export function runeLen(p: usize, left: usize): usize {
  let n = utf8SeqLen(p, left);
  return n == 0 ? 1 : <usize>n;
}

export function runeCount(p: usize, n: usize): i32 {
  let i: usize = 0;
  let c = 0;
  while (i < n) { i += runeLen(p + i, n - i); c++; }
  return c;
}

/** Decodes the rune at p (U+FFFD for invalid bytes). */
export function runeAt(p: usize, left: usize): u32 {
  let n = utf8SeqLen(p, left);
  let c = <u32>load<u8>(p);
  if (n == 0) return 0xFFFD;
  if (n == 1) return c;
  let cp: u32 = n == 2 ? c & 0x1F : (n == 3 ? c & 0x0F : c & 0x07);
  for (let i = 1; i < n; i++) cp = (cp << 6) | (<u32>load<u8>(p + <usize>i) & 0x3F);
  return cp;
}

/** Byte offset of rune index idx (n if beyond the end). */
export function runeOffset(p: usize, n: usize, idx: i32): usize {
  let i: usize = 0;
  let c = 0;
  while (i < n && c < idx) { i += runeLen(p + i, n - i); c++; }
  return i;
}

export function bytesFind(h: usize, hn: usize, nd: usize, nn: usize, from: usize): isize {
  if (nn == 0) return <isize>from;
  if (nn > hn) return -1;
  let first = load<u8>(nd);
  for (let i = from; i + nn <= hn; i++) {
    if (load<u8>(h + i) != first) continue;
    let ok = true;
    for (let j: usize = 1; j < nn; j++) if (load<u8>(h + i + j) != load<u8>(nd + j)) { ok = false; break; }
    if (ok) return <isize>i;
  }
  return -1;
}

export function isSpace(cp: u32): bool {
  return cp == 32 || (cp >= 9 && cp <= 13) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/** Simple case mapping for ASCII, Latin-1, Greek and Cyrillic (Go's unicode.ToLower/ToUpper on those). */
export function toLowerRune(c: u32): u32 {
  if (c >= 65 && c <= 90) return c + 32;
  if (c < 0xC0) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    // Latin Extended-A pairs: even upper / odd lower (with the 0x139-0x148 and 0x179-0x17E ranges shifted)
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) == 1 ? c + 1 : c;
    return (c & 1) == 0 ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

export function toUpperRune(c: u32): u32 {
  if (c >= 97 && c <= 122) return c - 32;
  if (c < 0xB5) return c;
  if (c == 0xB5) return 0x39C;
  if (c == 0xFF) return 0x178;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) == 0 ? c - 1 : c;
    return (c & 1) == 1 ? c - 1 : c;
  }
  if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}
