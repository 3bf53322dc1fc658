// pino-roll ships no type declarations: the part of its API used here.
declare module 'pino-roll' {
  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    extension?: string;
    symlink?: boolean;
    dateFormat?: string;
    [sonicBoomOption: string]: unknown;
  }
  /** A SonicBoom stream writing `file` numbered (file.1, file.2, ...), rolled by size and/or time. */
  export default function pinoRoll(options: PinoRollOptions): Promise<NodeJS.WritableStream & { file: string }>;
}
