// One line per command, for its own help and for `bastion --help`, which lists the commands
// without loading their modules (loading them all costs most of a second).
export const SUMMARIES = {
  run: 'run the gateway (default: the embedded config/default.yaml)',
  policy: 'write, test and ship Rego policies (like opa eval|test|check|build)',
  cert: 'certificate tools',
  ca: 'test PKI: create CAs, issue and revoke certificates, write CRLs (PEM files in a folder)',
  ctl: "talk to a running gateway's admin API (like kamcmd): status, connections, drop, reload, metrics",
} as const;

export type CommandName = keyof typeof SUMMARIES;
