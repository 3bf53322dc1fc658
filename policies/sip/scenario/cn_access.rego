# METADATA
# title: S6 Certificate-based access control
# description: >-
#   Requests over TLS need a verified certificate whose CN is allowed; the administrative
#   methods are reserved to one named certificate (by SHA-256 fingerprint).
package sip.scenario.cn_access

import data.config.cn_access as cfg
import data.sip.lib.peer

deny contains cfg.unverified if {
	tls_request
	not peer.verified
}

deny contains {"status": 403, "reason": "Forbidden"} if {
	tls_request
	peer.verified
	not peer.cn in cfg.allowed_cns
}

deny contains {"status": 403, "reason": "Administrative Method Not Allowed"} if {
	tls_request
	input.message.method in cfg.admin.methods
	not admin
}

admin if peer.fingerprint == cfg.admin.sha256

tls_request if {
	input.direction == "inbound"
	input.transport == "tls"
	input.message.kind == "request"
}
