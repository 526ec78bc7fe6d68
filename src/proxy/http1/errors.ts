/**
 * The one table of HTTP/1.1 parse error codes (STYLE.md section 4). Each code carries the status a
 * server-side caller answers with (400, 431, 501, 505); a client-side caller (parsing an upstream
 * response) maps every code to 502 instead. Tests assert the code, never the message. Codes are
 * never reused once retired.
 */

const CODES = {
  HTTP1_HEAD_TOO_LARGE: { status: 431, message: 'header section larger than maxHeadBytes' },
  HTTP1_TOO_MANY_HEADERS: { status: 431, message: 'more header fields than maxHeaders' },
  HTTP1_BARE_LF: { status: 400, message: 'line ends with LF without CR' },
  HTTP1_BARE_CR: { status: 400, message: 'CR not followed by LF' },
  HTTP1_INVALID_METHOD: { status: 400, message: 'method is not a token' },
  HTTP1_INVALID_TARGET: { status: 400, message: 'invalid request-target' },
  HTTP1_INVALID_VERSION: { status: 400, message: 'malformed HTTP-version' },
  HTTP1_VERSION_NOT_SUPPORTED: { status: 505, message: 'only HTTP/1.0 and HTTP/1.1 are supported' },
  HTTP1_INVALID_REQUEST_LINE: { status: 400, message: 'malformed request-line' },
  HTTP1_INVALID_STATUS_LINE: { status: 400, message: 'malformed status-line' },
  HTTP1_OBS_FOLD: { status: 400, message: 'obsolete line folding' },
  HTTP1_INVALID_HEADER_NAME: { status: 400, message: 'header name is not a token' },
  HTTP1_SPACE_BEFORE_COLON: { status: 400, message: 'whitespace between header name and colon' },
  HTTP1_INVALID_HEADER_VALUE: { status: 400, message: 'control character in header value' },
  HTTP1_MISSING_HOST: { status: 400, message: 'HTTP/1.1 request without Host' },
  HTTP1_DUPLICATE_HOST: { status: 400, message: 'more than one Host header' },
  HTTP1_INVALID_HOST: { status: 400, message: 'invalid Host value' },
  HTTP1_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length is not a single decimal number' },
  HTTP1_DUPLICATE_CONTENT_LENGTH: { status: 400, message: 'more than one Content-Length' },
  HTTP1_CONTENT_LENGTH_AND_TE: { status: 400, message: 'both Content-Length and Transfer-Encoding' },
  HTTP1_UNSUPPORTED_TE: { status: 501, message: 'Transfer-Encoding is not a known coding list ending in chunked' },
  HTTP1_TE_IN_HTTP10: { status: 400, message: 'Transfer-Encoding in an HTTP/1.0 message' },
  HTTP1_INVALID_CHUNK_SIZE: { status: 400, message: 'chunk-size is not 1 to 16 hex digits' },
  HTTP1_CHUNK_TOO_LARGE: { status: 413, message: 'chunk-size above maxChunkBytes' },
  HTTP1_INVALID_CHUNK_EXT: { status: 400, message: 'invalid chunk extension' },
  HTTP1_MISSING_CHUNK_CRLF: { status: 400, message: 'chunk data not followed by CRLF' },
  HTTP1_TRAILERS_TOO_LARGE: { status: 431, message: 'trailer section larger than maxHeadBytes' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code; a test asserts this, not the message. */
export type Http1ErrorCode = keyof typeof CODES;

/** A parse or framing failure: code, the status a server answers with, and the byte offset it was found at. */
export interface Http1Error {
  readonly kind: 'error';
  readonly code: Http1ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly offset: number;
}

/** Makes an `Http1Error` from the table; `detail` names the field or value at fault. */
export function http1Error(code: Http1ErrorCode, offset: number, detail?: string): Http1Error {
  const entry = CODES[code];
  const message = detail === undefined ? entry.message : `${entry.message}: ${detail}`;
  return { kind: 'error', code, status: entry.status, message, offset };
}
