/**
 * The sidecar's ADS client: subscribes to the controller, NACKs what the config decoders
 * refuse, and publishes a complete ProxyConfig whenever the accepted set resolves and changes.
 */
export { startXdsClient, XdsClient, type XdsClientEvent, type XdsClientOptions, type XdsTimer } from './client.js';
