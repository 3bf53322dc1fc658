import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('graphql.* conformance (direct calls)', () => {
  // Error codes are checked; texts only in the strict run below: graphql-js words some syntax
  // errors differently from gqlparser (OPA checks codes only for these cases too).
  const n = conformanceCases(['graphql'], {}, { errorText: false });
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(90));
});

describe('graphql.* round trips', () => {
  const schema = 'type Query { employee(id: ID!): Employee } type Employee { id: ID! name: String salary: Int }';
  it('ASTs given back as arguments are understood', () => {
    const s = call('graphql.parse_schema', schema);
    const q = call('graphql.parse_query', 'query Q($id: ID!) { employee(id: $id) { name } }');
    expect(call('graphql.is_valid', q, s)).toBe(true);
    expect(call('graphql.schema_is_valid', s)).toBe(true);
    expect(call('graphql.is_valid', call('graphql.parse_query', '{ employee(id: "1") { nope } }'), s)).toBe(false);
  });
  it('parse reports validation errors as OPA does', () => {
    expect(() => call('graphql.parse', '{ employee { name } }', schema)).toThrow(/^eval_builtin_error: graphql.parse: .* in GraphQL string at location 1:3$/);
    expect(call('graphql.parse_and_verify', '{ nope }', schema)).toEqual([false, {}, {}]);
  });
  it('syntax errors carry line:column', () => {
    expect(() => call('graphql.parse_schema', 'type Hello {')).toThrow('graphql.parse_schema: Expected Name, found <EOF> in GraphQL string at location 1:13');
  });
});
