/**
 * Node's own llhttp, reached through the deprecated `process.binding('http_parser')`, as the
 * reference for the differential fuzz test and the benchmark baseline. Test and bench use only:
 * the proxy never loads it. Strict mode (no lenient flags), as `insecureHTTPParser: false`.
 */

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(buf: Buffer): number | Error;
  finish(): Error | undefined;
  close(): void;
  [callback: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

interface Binding {
  HTTPParser: NativeParserClass;
  methods: string[];
}

let binding: Binding | undefined;

function load(): Binding {
  binding ??= (process as unknown as { binding(name: string): Binding }).binding('http_parser');
  return binding;
}

/** llhttp's fixed method table; any other token is refused with HPE_INVALID_METHOD. */
export function llhttpMethods(): readonly string[] {
  return load().methods;
}

/** What llhttp made of the first message in a buffer. */
export interface LlhttpResult {
  /** The llhttp error code (`HPE_...`), or undefined when it did not reject. */
  error: string | undefined;
  headersComplete: boolean;
  messageComplete: boolean;
  method: string | undefined;
  url: string;
  versionMinor: number;
  statusCode: number | undefined;
  /** Alternating names and values, as `rawHeaders`. */
  headers: string[];
  body: Buffer;
}

/**
 * A reusable llhttp parser: `parse` resets it and runs one buffer; `finish` says whether the bytes
 * ended a close-delimited body. Keeping one instance avoids measuring construction in the bench.
 */
export class Llhttp {
  private readonly parser: NativeParser;
  private readonly kind: number;
  private result: LlhttpResult = Llhttp.empty();

  constructor(kind: 'request' | 'response', maxHeaderSize = 16 * 1024) {
    const { HTTPParser, methods } = load();
    this.kind = kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE;
    this.parser = new HTTPParser();
    this.parser.initialize(this.kind, {}, maxHeaderSize, 0);
    this.parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
      // After the head is complete, this callback carries chunked trailers (and an empty URL
      // repeated): they are not part of the head we compare.
      if (this.result.headersComplete) return;
      this.result.headers.push(...headers);
      this.result.url += url;
    };
    this.parser[HTTPParser.kOnHeadersComplete] = (
      _major: number, minor: number, headers: string[] | undefined, method: number | undefined, url: string | undefined, statusCode: number | undefined,
    ): number => {
      const r = this.result;
      if (headers !== undefined) r.headers.push(...headers);
      if (url !== undefined) r.url += url;
      r.versionMinor = minor;
      r.method = method === undefined ? undefined : methods[method];
      r.statusCode = statusCode;
      r.headersComplete = true;
      return 0;
    };
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer): void => {
      this.result.body = Buffer.concat([this.result.body, chunk]);
    };
    this.parser[HTTPParser.kOnMessageComplete] = (): void => {
      this.result.messageComplete = true;
    };
    this.maxHeaderSize = maxHeaderSize;
  }

  private readonly maxHeaderSize: number;

  private static empty(): LlhttpResult {
    return { error: undefined, headersComplete: false, messageComplete: false, method: undefined, url: '', versionMinor: -1, statusCode: undefined, headers: [], body: Buffer.alloc(0) };
  }

  /** Parses `buf` from a fresh parser state; with `eof`, also signals the end of input. */
  parse(buf: Buffer, eof = false): LlhttpResult {
    this.parser.initialize(this.kind, {}, this.maxHeaderSize, 0);
    this.result = Llhttp.empty();
    const r = this.parser.execute(buf);
    if (r instanceof Error) this.result.error = (r as Error & { code?: string }).code ?? 'HPE_UNKNOWN';
    else if (eof) {
      const f = this.parser.finish();
      if (f instanceof Error) this.result.error = (f as Error & { code?: string }).code ?? 'HPE_UNKNOWN';
    }
    return this.result;
  }

  /** Parses only until the head is complete, reporting nothing: the benchmark's baseline. */
  parseHeadOnly(buf: Buffer): boolean {
    this.parser.initialize(this.kind, {}, this.maxHeaderSize, 0);
    this.result = Llhttp.empty();
    this.parser.execute(buf);
    return this.result.headersComplete;
  }

  /** Releases the native parser. */
  close(): void {
    this.parser.close();
  }
}
