import { describe, expect, it } from 'vitest';
import { moduleConstants } from './testing/conformance-calls.js';
import { loadCases, defaultSuiteDir } from '../conformance/cases.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('providers.aws.sign_req on the suite\'s fixtures', () => {
  for (const c of loadCases(defaultSuiteDir(), ['providers-aws'])) {
    const src = c.modules?.[0] ?? '';
    const k = moduleConstants(src);
    const ts = /sign_req\(req, aws_config, (\d+)\)/.exec(src);
    if (!ts || !k.has('req') || !k.has('aws_config')) continue;
    it(c.note, () => {
      const run = () => call('providers.aws.sign_req', k.get('req'), k.get('aws_config'), Number(ts[1]));
      if (c.want_error) return expect(run).toThrow(c.want_error);
      const want = (c.want_plan_result ?? c.want_result)?.[0]?.x;
      const got = run();
      if (want === true) expect(got).toEqual(k.get('expected'));
      else expect(got).not.toEqual(k.get('expected'));
    });
  }
});
