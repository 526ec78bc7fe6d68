/** HTTP/2 settings both codecs use. */

/**
 * Receive windows: 1 MiB per stream and 16 MiB per session, large enough that a 1 MB gRPC
 * message crosses a hop without waiting for WINDOW_UPDATEs, small enough that a paused stream
 * cannot pile up much. (Envoy's 256 MiB defaults assume C++ buffers; Node keeps unread data in
 * JS memory.)
 */
export const DEFAULT_HTTP2_WINDOWS = Object.freeze({ streamWindowBytes: 1024 * 1024, sessionWindowBytes: 16 * 1024 * 1024 });
