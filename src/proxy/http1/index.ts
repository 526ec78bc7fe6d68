/**
 * The sidecar's HTTP/1.1 codec, pure (no sockets): strict head parsing for requests and responses
 * and incremental body framing. The socket loop that uses it lives elsewhere.
 */
export {
  CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, CONNECTION_UPGRADE, DEFAULT_HEAD_LIMITS, fieldName, fieldValue, INCOMPLETE,
  parseRequestHead, parseResponseHead,
  type HeadLimits, type HeadResult, type MessageHead, type RequestHead, type ResponseHead, type TargetForm,
} from './head.js';
export {
  bodyDecoderFor, ChunkedBody, CloseDelimitedBody, ContentLengthBody, DEFAULT_CHUNKED_LIMITS, requestBodyFraming, responseBodyFraming,
  type BodyDecoder, type BodyFraming, type BodySink, type ChunkedLimits, type Trailers,
} from './body.js';
export { http1Error, type Http1Error, type Http1ErrorCode } from './errors.js';
