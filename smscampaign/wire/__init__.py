"""The wire: the gateway's protocol and the client that speaks it (imports only ``core``).

protocol    protocol facts: endpoints, charsets, limits, times, send windows
form        the request form: numbers joined, fields encoded per charset
answers     the answer parser: GatewayResponse, parse_response
deadline    the watchdog that enforces a request's deadline
redact      secrets out of URLs and log lines
gateway     the Gateway client, one method per endpoint
"""
