// Certificate path validation, step for step as OpenSSL 3.0 does it in X509_verify_cert
// (crypto/x509/x509_vfy.c) with the verify callback Node installs for TLS, which lets verification
// go on after every error: each error is recorded, and the verdict is the last one, which is what
// Node's handshake reports (socket.authorizationError). `errors` keeps the whole sequence (the
// prefix up to the first error `openssl verify` stops at is what that command prints).
//
// The steps: build the chain (trusted issuers first, then the peer's certificates; a store
// certificate is a trust anchor when it is self-signed, or any store certificate with partial
// chains), check every certificate's extensions (unhandled critical extensions, CA flags, purpose,
// path length), key and digest strength (security level 1, as in TLS), the expected name, CRLs,
// then signatures and validity times from the anchor down, then name constraints.
//
// Where this differs from OpenSSL on purpose: CRLs are checked for certificates whose issuer has a
// CRL loaded (crlCheck 'if-present'; 'all' is OpenSSL's X509_V_FLAG_CRL_CHECK_ALL), the expected
// name is RFC 5922 / an IP SAN match supplied by the caller, a chain longer than the verify depth
// ends verification with CERT_CHAIN_TOO_LONG (as `openssl verify -verify_depth` reports it; Node
// has no depth setting), and certificates with duplicated extensions are invalid (model.ts).
import { checkAkid, sigAlgMatch, GEN, KU, type CertModel } from './model.js';
import { x509CheckCa, x509CheckPurpose, signingAllowed, type Purpose } from './purpose.js';
import { nameConstraintsCheck, nameConstraintsCheckCn } from './ncons.js';
import { signatureValid } from './signature.js';
import { crlLookup, type CrlIndex, type CrlModel } from '../crl.js';
import type { TrustStore } from './store.js';
import { CRLDP_ALL_REASONS, type DistPointName, type GeneralName } from './model.js';

export interface VerifyOptions {
  trust: TrustStore;
  /**
   * The other certificates the peer presented (its intermediates), or a function returning them,
   * called only when the trust store alone cannot extend the chain.
   */
  untrusted?: CertModel[] | (() => CertModel[]);
  crls?: CrlIndex;
  /** Default 'if-present' (see above); 'none' skips CRLs. */
  crlCheck?: 'none' | 'if-present' | 'all' | 'leaf';
  /** Verification time; default now. */
  at?: Date;
  /** Default: no purpose check ('any'). */
  purpose?: Purpose | 'any';
  /** Maximum number of intermediate certificates (OpenSSL's verify depth); default 100. */
  depth?: number;
  /** Store certificates that are not self-signed are trust anchors too (X509_V_FLAG_PARTIAL_CHAIN). */
  partialChain?: boolean;
  /** Security level for key and digest strength; TLS uses the library default, 1. -1: none. */
  authLevel?: number;
  /** The expected-name check (null: matches), run where OpenSSL checks host names (check_id). */
  checkName?: (leaf: CertModel) => string | null;
  /** A CRL past its nextUpdate: 'reject' (default, OpenSSL's CRL_HAS_EXPIRED) or 'accept' (still used for its revocations). */
  crlStale?: 'reject' | 'accept';
  /** Told of each stale CRL a verification meets (either way). */
  onStaleCrl?: (crl: CrlModel) => void;
}

export interface VerifyEvent {
  code: string;
  /** Depth of the certificate concerned (0: the peer); -1 for an internal error. */
  depth: number;
}

export interface VerifyResult {
  /** The chain as built: peer first, trust anchor last when one was found. */
  chain: CertModel[];
  /** Every error in the order OpenSSL reports them. */
  errors: VerifyEvent[];
  /** The verdict: the last error, null when verified. */
  error: string | null;
  /** The chain ends at a trust anchor. */
  trusted: boolean;
}

const TRUSTED = 1;
const REJECTED = 2;
const UNTRUSTED = 3;

const MINBITS = [80, 112, 128, 192, 256];

// CRL score bits (x509_vfy.c)
const CRL_SCORE_NOCRITICAL = 0x100;
const CRL_SCORE_SCOPE = 0x080;
const CRL_SCORE_TIME = 0x040;
const CRL_SCORE_ISSUER_NAME = 0x020;
const CRL_SCORE_ISSUER_CERT = 0x018;
const CRL_SCORE_SAME_PATH = 0x008;
const CRL_SCORE_AKID = 0x004;

class InternalError extends Error {}
/** Verification ends here (as when OpenSSL's verify callback returns 0). */
class Stop extends Error {}

/** ossl_x509_likely_issued: null when `issuer` may have issued `subject` (names, key identifiers, key type). */
export function likelyIssued(issuer: CertModel, subject: CertModel): string | null {
  if (issuer.subject.canon !== subject.issuer.canon) return 'SUBJECT_ISSUER_MISMATCH';
  if (issuer.invalid || subject.invalid) return 'UNSPECIFIED';
  return checkAkid(issuer, subject.akid) ?? sigAlgMatch(issuer.key, subject);
}

/** X509_check_issued: likely issued, and the issuer's key usage allows it to sign certificates. */
export function x509CheckIssued(issuer: CertModel, subject: CertModel): boolean {
  return likelyIssued(issuer, subject) === null && signingAllowed(issuer, subject) === null;
}

/** Verifies the chain that starts with `leaf`. Never throws for bad certificates. */
export function verifyChain(leaf: CertModel, opts: VerifyOptions): VerifyResult {
  const v = new Verification(leaf, opts);
  try {
    v.run();
  } catch (e) {
    if (e instanceof Stop) return { chain: v.chain, errors: v.errors, error: v.error, trusted: v.trusted };
    if (!(e instanceof InternalError)) throw e;
    // build_chain's int_err: X509_V_ERR_UNSPECIFIED, no callback, verification ends.
    v.error = 'UNSPECIFIED';
    v.errors.push({ code: 'UNSPECIFIED', depth: -1 });
  }
  return { chain: v.chain, errors: v.errors, error: v.error, trusted: v.trusted };
}

class Verification {
  chain: CertModel[];
  numUntrusted = 1;
  errors: VerifyEvent[] = [];
  error: string | null = null;
  trusted = false;
  private readonly t: number;
  private readonly purpose: Purpose | undefined;
  private readonly depth: number;
  private readonly authLevel: number;
  private untrustedList: CertModel[] | undefined;

  constructor(
    leaf: CertModel,
    private readonly o: VerifyOptions,
  ) {
    this.chain = [leaf];
    // OpenSSL compares times to the second
    this.t = Math.floor((o.at ?? new Date()).getTime() / 1000) * 1000;
    this.purpose = o.purpose === 'any' ? undefined : o.purpose;
    this.depth = Math.min(o.depth ?? 100, 0x3fffffff);
    this.authLevel = o.authLevel ?? 1;
  }

  private report(code: string, depth: number): void {
    this.error = code;
    this.errors.push({ code, depth });
  }

  private untrusted(): CertModel[] {
    if (!this.untrustedList) {
      const u = this.o.untrusted;
      this.untrustedList = typeof u === 'function' ? u() : (u ?? []);
    }
    return this.untrustedList;
  }

  run(): void {
    const leaf = this.chain[0];
    if (!this.keyLevelOk(leaf)) this.report('EE_KEY_TOO_SMALL', 0);
    this.buildChain();
    this.checkExtensions();
    this.checkAuthLevel();
    const nameError = this.o.checkName?.(this.chain[0]);
    if (nameError) this.report(nameError, 0);
    // X509_get_pubkey_parameters: a peer key that cannot be decoded ends verification.
    if (this.chain[0].key.alg === null) {
      if (this.error === null) this.report('UNSPECIFIED', -1);
      return;
    }
    this.checkRevocation();
    this.internalVerify();
    this.checkNameConstraints();
  }

  // --- time ---

  /** X509_cmp_time: -1 when `time` <= now, 1 after, 0 malformed. */
  private cmpTime(time: { ms: number; wellFormed: boolean }): number {
    if (!time.wellFormed) return 0;
    return time.ms <= this.t ? -1 : 1;
  }

  private timeOk(x: CertModel): boolean {
    if (this.cmpTime(x.notBefore) >= 0) return false;
    return this.cmpTime(x.notAfter) > 0;
  }

  private checkCertTime(x: CertModel, depth: number): void {
    let i = this.cmpTime(x.notBefore);
    if (i === 0) this.report('ERROR_IN_CERT_NOT_BEFORE_FIELD', depth);
    if (i > 0) this.report('CERT_NOT_YET_VALID', depth);
    i = this.cmpTime(x.notAfter);
    if (i === 0) this.report('ERROR_IN_CERT_NOT_AFTER_FIELD', depth);
    if (i < 0) this.report('CERT_HAS_EXPIRED', depth);
  }

  // --- issuers ---

  private checkIssued(x: CertModel, issuer: CertModel): boolean {
    return likelyIssued(issuer, x) === null;
  }

  /** X509_self_signed(x, 0): 1, 0, or an internal error (no key, invalid extensions). */
  private selfSigned(x: CertModel): boolean {
    if (x.key.alg === null || x.invalid) throw new InternalError();
    return x.selfSigned;
  }

  private selfSignedOrFalse(x: CertModel): boolean {
    return x.key.alg !== null && !x.invalid && x.selfSigned;
  }

  /** X509_STORE_CTX_get1_issuer: the first time-valid issuer in the store, else the latest expiring. */
  private trustedIssuer(x: CertModel): CertModel | undefined {
    let best: CertModel | undefined;
    for (const c of this.o.trust.withSubject(x.issuer.canon)) {
      if (!this.checkIssued(x, c)) continue;
      if (this.timeOk(c)) return c;
      if (!best || c.notAfter.ms > best.notAfter.ms) best = c;
    }
    return best;
  }

  /** find_issuer over the peer's certificates. */
  private untrustedIssuer(pool: CertModel[], x: CertModel): CertModel | undefined {
    let rv: CertModel | undefined;
    for (const c of pool) {
      if (!this.checkIssued(x, c)) continue;
      if (!((x.selfIssued && this.chain.length === 1) || !this.chain.some((y) => y.sha256 === c.sha256))) continue;
      if (this.timeOk(c)) return c;
      if (!rv || c.notAfter.ms > rv.notAfter.ms) rv = c;
    }
    return rv;
  }

  /** X509_check_trust with no auxiliary trust settings: trusted when self-signed. */
  private certTrust(x: CertModel): number {
    return !x.invalid && x.selfSigned ? TRUSTED : UNTRUSTED;
  }

  private checkTrust(numUntrusted: number): number {
    const num = this.chain.length;
    for (let i = numUntrusted; i < num; i++) if (this.certTrust(this.chain[i]) === TRUSTED) return TRUSTED;
    if (numUntrusted < num) return this.o.partialChain ? TRUSTED : UNTRUSTED;
    if (numUntrusted === num && this.o.partialChain) {
      // last resort: the leaf itself in the store
      const leaf = this.chain[0];
      const mx = this.o.trust.withSubject(leaf.subject.canon).find((c) => c.sha256 === leaf.sha256);
      if (!mx) return UNTRUSTED;
      this.chain[0] = mx;
      this.numUntrusted = 0;
      return TRUSTED;
    }
    return UNTRUSTED;
  }

  private buildChain(): void {
    const S_UNTRUSTED = 1;
    const S_TRUSTED = 2;
    let search = S_UNTRUSTED | S_TRUSTED; // the peer's list is never empty in TLS; trusted first
    const maxDepth = this.depth + 1;
    let trust = UNTRUSTED;
    let pool: CertModel[] | undefined;
    while (search !== 0) {
      let num = this.chain.length;
      if (search & S_TRUSTED) {
        const curr = this.chain[num - 1];
        const issuer = num > maxDepth ? undefined : this.trustedIssuer(curr);
        let ok = issuer !== undefined;
        if (issuer) {
          let selfSigned = this.selfSigned(curr);
          if (!selfSigned) {
            this.chain.push(issuer);
            selfSigned = this.selfSigned(issuer);
          } else if (curr.sha256 !== issuer.sha256) {
            ok = false; // a self-signed look-alike of a trust anchor
          } else {
            this.numUntrusted = --num;
            this.chain[num] = issuer;
          }
          if (ok) {
            search &= ~S_UNTRUSTED;
            trust = this.checkTrust(num);
            if (trust !== UNTRUSTED) break;
            if (!selfSigned) continue;
          }
        }
        if ((search & S_UNTRUSTED) === 0) break;
      }
      if (search & S_UNTRUSTED) {
        num = this.chain.length;
        const curr = this.chain[num - 1];
        pool ??= [this.chain[0], ...this.untrusted()];
        const issuer = this.selfSignedOrFalse(curr) || num > maxDepth ? undefined : this.untrustedIssuer(pool, curr);
        if (!issuer) {
          search &= ~S_UNTRUSTED;
          search |= S_TRUSTED;
          continue;
        }
        pool.splice(pool.indexOf(issuer), 1);
        this.chain.push(issuer);
        this.numUntrusted++;
      }
    }
    const num = this.chain.length;
    if (num <= maxDepth && trust === UNTRUSTED && num === this.numUntrusted) trust = this.checkTrust(num);
    if (trust === TRUSTED) {
      this.trusted = true;
      return;
    }
    switch (this.error) {
      case 'ERROR_IN_CERT_NOT_BEFORE_FIELD':
      case 'CERT_NOT_YET_VALID':
      case 'ERROR_IN_CERT_NOT_AFTER_FIELD':
      case 'CERT_HAS_EXPIRED':
        return;
      case null:
        break;
      default:
        // a preliminary error becomes final
        this.report(this.error, num - 1);
        return;
    }
    if (num > maxDepth) {
      // Node has no verify depth setting; verify_depth is applied as `openssl verify -verify_depth`
      // applies it: the chain is refused as too long there, no later error hides that.
      this.report('CERT_CHAIN_TOO_LONG', num - 1);
      throw new Stop();
    }
    const top = this.chain[num - 1];
    if (this.selfSignedOrFalse(top)) this.report(num === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN', num - 1);
    else this.report(this.numUntrusted < num ? 'UNABLE_TO_GET_ISSUER_CERT' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', num - 1);
  }

  // --- extensions, strength ---

  private checkExtensions(): void {
    const num = this.chain.length;
    let mustBeCa = -1;
    let plen = 0;
    for (let i = 0; i < num; i++) {
      const x = this.chain[i];
      if (x.critical) this.report('UNHANDLED_CRITICAL_EXTENSION', i);
      if (x.proxy) this.report('PROXY_CERTIFICATES_NOT_ALLOWED', i);
      const ret = x509CheckCa(x);
      if (mustBeCa === 0 && ret !== 0) this.report('INVALID_NON_CA', i);
      if (mustBeCa === 1 && (ret === 0 || (i + 1 < num && ret !== 1))) this.report('INVALID_CA', i);
      if (num > 1 && x.key.alg === null) this.report('UNSPECIFIED', i);
      if (num > 1 && x.key.explicitCurve) this.report('EC_KEY_EXPLICIT_PARAMS', i);
      // check_purpose: -1 (invalid extensions) passes outside X509_V_FLAG_X509_STRICT; trusted
      // certificates get no override without auxiliary trust settings
      if (this.purpose && x509CheckPurpose(x, this.purpose, mustBeCa > 0) === 0) this.report('INVALID_PURPOSE', i);
      if (i > 1 && x.pathlen !== -1 && plen > x.pathlen) this.report('PATH_LENGTH_EXCEEDED', i);
      if (i > 0 && !x.selfIssued) plen++;
      mustBeCa = x.proxy ? 0 : 1;
    }
  }

  private keyLevelOk(x: CertModel): boolean {
    if (this.authLevel <= 0) return true;
    if (x.key.alg === null) return false;
    return x.key.securityBits >= MINBITS[Math.min(this.authLevel, 5) - 1];
  }

  private checkAuthLevel(): void {
    if (this.authLevel <= 0) return;
    const num = this.chain.length;
    const min = MINBITS[Math.min(this.authLevel, 5) - 1];
    for (let i = 0; i < num; i++) {
      const x = this.chain[i];
      if (i > 0 && !this.keyLevelOk(x)) this.report('CA_KEY_TOO_SMALL', i);
      if (i < num - 1 && (x.sigAlg.keyAlg === null || x.sigAlg.securityBits < min)) this.report('CA_MD_TOO_WEAK', i);
    }
  }

  // --- revocation ---

  private checkRevocation(): void {
    const mode = this.o.crlCheck ?? 'if-present';
    const crls = this.o.crls;
    if (mode === 'none' || (mode === 'if-present' && (!crls || crls.size === 0))) return;
    const last = mode === 'leaf' ? 0 : this.chain.length - 1;
    for (let i = 0; i <= last; i++) {
      if (mode === 'if-present' && crls!.forIssuer(this.chain[i].issuer.canon).length === 0) continue;
      this.checkCert(i);
    }
  }

  private checkCert(i: number): void {
    const x = this.chain[i];
    if (x.proxy) return;
    let reasons = 0;
    while (reasons !== CRLDP_ALL_REASONS) {
      const lastReasons = reasons;
      const got = this.getCrl(x, i, reasons);
      if (!got) {
        this.report('UNABLE_TO_GET_CRL', i);
        return;
      }
      reasons = got.reasons;
      this.checkCrl(got.crl, i, got.score, got.issuer);
      this.certCrl(got.crl, x, i);
      if (lastReasons === reasons) {
        this.report('UNABLE_TO_GET_CRL', i);
        return;
      }
    }
  }

  /** get_crl_sk over the CRLs of the certificate's issuer: the best score, newest on ties. */
  private getCrl(x: CertModel, i: number, currentReasons: number): { crl: CrlModel; issuer: CertModel; score: number; reasons: number } | undefined {
    let best: { crl: CrlModel; issuer: CertModel; score: number; reasons: number } | undefined;
    for (const crl of this.o.crls?.forIssuer(x.issuer.canon) ?? []) {
      const s = this.crlScore(crl, x, i, currentReasons);
      if (!s || s.score < (best?.score ?? 0)) continue;
      if (best && s.score === best.score && !(crl.thisUpdate.ms > best.crl.thisUpdate.ms)) continue;
      best = { crl, ...s };
    }
    return best;
  }

  private crlTimeOk(crl: CrlModel): boolean {
    const i = this.cmpTime(crl.thisUpdate);
    if (i === 0 || i > 0) return false;
    if (crl.nextUpdate) {
      const j = this.cmpTime(crl.nextUpdate);
      if (j === 0 || j < 0) return false;
    }
    return true;
  }

  private crlScore(crl: CrlModel, x: CertModel, i: number, reasonsIn: number): { issuer: CertModel; score: number; reasons: number } | undefined {
    let score = 0;
    let reasons = reasonsIn;
    if (crl.idp?.invalid) return undefined;
    // no extended CRL support: indirect CRLs and partitions by reason are not used
    if (crl.idp && (crl.idp.indirect || crl.idp.reasons !== undefined)) return undefined;
    if (x.issuer.canon !== crl.issuer.canon) return undefined;
    score |= CRL_SCORE_ISSUER_NAME;
    if (!crl.critical) score |= CRL_SCORE_NOCRITICAL;
    if (this.crlTimeOk(crl)) score |= CRL_SCORE_TIME;
    // crl_akid_check: the CRL issuer is the certificate's issuer, or further up the same path
    let issuer: CertModel | undefined;
    let cidx = i;
    if (cidx !== this.chain.length - 1) cidx++;
    if (checkAkid(this.chain[cidx], crl.akid) === null) {
      score |= CRL_SCORE_AKID | CRL_SCORE_ISSUER_CERT;
      issuer = this.chain[cidx];
    } else {
      for (cidx++; cidx < this.chain.length; cidx++) {
        const c = this.chain[cidx];
        if (c.subject.canon !== crl.issuer.canon) continue;
        if (checkAkid(c, crl.akid) === null) {
          score |= CRL_SCORE_AKID | CRL_SCORE_SAME_PATH;
          issuer = c;
          break;
        }
      }
    }
    if (!issuer) return undefined;
    const dp = this.crldpCheck(x, crl, score);
    if (dp !== undefined) {
      if ((dp & ~reasons) === 0) return undefined;
      reasons |= dp;
      score |= CRL_SCORE_SCOPE;
    }
    return { issuer, score, reasons };
  }

  /** crl_crldp_check: the reasons the CRL covers for this certificate, undefined when out of scope. */
  private crldpCheck(x: CertModel, crl: CrlModel, score: number): number | undefined {
    const idp = crl.idp;
    if (idp?.onlyAttr) return undefined;
    if (x.ca ? idp?.onlyUser : idp?.onlyCa) return undefined;
    let reasons = idp?.reasons ?? CRLDP_ALL_REASONS;
    for (const dp of x.crldp ?? []) {
      const issuerOk = dp.crlIssuer ? dp.crlIssuer.some((g) => g.type === GEN.DIRNAME && g.name!.canon === crl.issuer.canon) : (score & CRL_SCORE_ISSUER_NAME) !== 0;
      if (issuerOk && (!idp || idpCheckDp(dp.name, idp.name))) {
        reasons &= dp.reasons;
        return reasons;
      }
    }
    return (!idp || !idp.name) && (score & CRL_SCORE_ISSUER_NAME) !== 0 ? reasons : undefined;
  }

  private checkCrl(crl: CrlModel, i: number, score: number, issuer: CertModel): void {
    if (!crl.delta) {
      if (issuer.kusage !== undefined && (issuer.kusage & KU.CRL_SIGN) === 0) this.report('KEYUSAGE_NO_CRL_SIGN', i);
      if ((score & CRL_SCORE_SCOPE) === 0) this.report('DIFFERENT_CRL_SCOPE', i);
    }
    if ((score & CRL_SCORE_TIME) === 0) {
      const a = this.cmpTime(crl.thisUpdate);
      if (a === 0) this.report('ERROR_IN_CRL_LAST_UPDATE_FIELD', i);
      if (a > 0) this.report('CRL_NOT_YET_VALID', i);
      if (crl.nextUpdate) {
        const b = this.cmpTime(crl.nextUpdate);
        if (b === 0) this.report('ERROR_IN_CRL_NEXT_UPDATE_FIELD', i);
        if (b < 0) {
          this.o.onStaleCrl?.(crl);
          if (this.o.crlStale !== 'accept') this.report('CRL_HAS_EXPIRED', i);
        }
      }
    }
    if (issuer.key.alg === null) this.report('UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', i);
    else if (!signatureValid(crl, issuer)) this.report('CRL_SIGNATURE_FAILURE', i);
  }

  private certCrl(crl: CrlModel, x: CertModel, i: number): void {
    if (crl.critical) this.report('UNHANDLED_CRITICAL_CRL_EXTENSION', i);
    if (crlLookup(crl, x.serial) === 1) this.report('CERT_REVOKED', i);
  }

  // --- signatures and times ---

  private internalVerify(): void {
    let n = this.chain.length - 1;
    let xiIdx = n;
    let xsIdx = n;
    const top = this.chain[n];
    if (likelyIssued(top, top) !== null && !this.o.partialChain) {
      if (n > 0) xsIdx = --n;
      else this.report('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 0);
    }
    while (n >= 0) {
      const xs = this.chain[xsIdx];
      const xi = this.chain[xiIdx];
      if (xsIdx !== xiIdx) {
        const issuerDepth = n + 1;
        const ret = signingAllowed(xi, xs);
        if (ret) this.report(ret, issuerDepth);
        if (xi.key.alg === null) this.report('UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', issuerDepth);
        else if (!signatureValid(xs, xi)) this.report('CERT_SIGNATURE_FAILURE', n);
      }
      this.checkCertTime(xs, n);
      if (--n >= 0) {
        xiIdx = xsIdx;
        xsIdx = n;
      }
    }
  }

  private checkNameConstraints(): void {
    const num = this.chain.length;
    for (let i = num - 1; i >= 0; i--) {
      const x = this.chain[i];
      if (i !== 0 && x.selfIssued) continue;
      for (let j = num - 1; j > i; j--) {
        const nc = this.chain[j].nc;
        if (!nc) continue;
        let rv = nameConstraintsCheck(x, nc);
        if (rv === null && i === 0 && !(x.altnames ?? []).some((g) => g.type === GEN.DNS)) rv = nameConstraintsCheckCn(x, nc);
        if (rv) this.report(rv, i);
      }
    }
  }
}

/** idp_check_dp: does a certificate's distribution point name match the CRL's IDP name? */
function idpCheckDp(a: DistPointName | undefined, b: DistPointName | undefined): boolean {
  if (!a || !b) return true;
  if (a.relativeCanon !== undefined) {
    if (b.relativeCanon !== undefined) return a.relativeCanon === b.relativeCanon;
    return dirNamesInclude(b.full ?? [], a.relativeCanon);
  }
  if (b.relativeCanon !== undefined) return dirNamesInclude(a.full ?? [], b.relativeCanon);
  for (const ga of a.full ?? []) for (const gb of b.full ?? []) if (Buffer.compare(Buffer.from(ga.der), Buffer.from(gb.der)) === 0) return true;
  return false;
}

function dirNamesInclude(names: GeneralName[], canon: string): boolean {
  return names.some((g) => g.type === GEN.DIRNAME && g.name!.canon === canon);
}
