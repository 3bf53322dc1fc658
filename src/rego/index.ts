// The public surface of the Rego toolchain: everything outside src/rego uses this file and
// nothing else (an import-graph test keeps it so). Nothing here imports from the gateway: the
// toolchain could be published on its own.
//
//   parse    parseModule / parseQuery / parseTerm: Rego v1 source -> AST (OPA's ParseModule, ParseBody, ParseTerm)
//   check    parse + compile modules, no planning (`opa check`)
//   compile  parse -> compile -> plan -> WASM (`opa build -t wasm`): an OPA-ABI module for the SDK
//   ast      the AST toolkit: node types, the printer (OPA's String() forms), walkers, value order
//   format   formatModule / formatSource: canonical source formatting (`opa fmt`)
//   builtins the host builtins to hand to the SDK with a compiled module
//
// Failures of any stage come back as `errors` with OPA's error codes: a bad policy never makes
// check() or compile() throw.
export { parseModule, parseQuery, parseTerm } from './parser/index.js';
export type { SchemaOptions } from './compiler/types.js';
export { check, compile, type CheckOptions, type CheckResult, type CompileOptions, type CompileResult, type SourceModule } from './toolchain.js';
export * as ast from './ast/index.js';
export type { Body, Comment, Expr, Head, Import, Location, Module, RegoError, Rule, Term, Value, With } from './ast/types.js';
export { formatModule, formatSource } from './format/index.js';
export { MODULE_STAGES, QUERY_STAGES, type ModuleStageName, type QueryStageName, type StageHooks } from './compiler/stages.js';
export { createHostBuiltins, opaRuntimeInfo, BuiltinError, type HostBuiltin, type HostBuiltinOptions, type HttpSendOptions } from './builtins/host.js';
export { printBuiltin, printLines, PRINT_BUILTIN, type PrintHook, type PrintLocation } from './builtins/print.js';
export { parseEvalError, evalErrorText, type EvalError } from './builtins/eval-error.js';
export { TRACE_ENTER, TRACE_EXIT, TRACE_LEAVE_RULE, TRACE_EVAL, TRACE_SUCCESS, TRACE_LEAVE, TRACE_KINDS, type TraceNodeInfo, type TraceLocation } from './trace.js';
