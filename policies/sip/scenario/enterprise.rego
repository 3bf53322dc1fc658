# METADATA
# title: S1 Enterprise
# description: The company's proxies trust one company CA; any other TLS peer is refused.
package sip.scenario.enterprise

import data.config.enterprise as cfg
import data.sip.lib.peer

deny contains {"status": 403, "reason": cfg.reject_reason} if {
	input.direction == "inbound"
	input.transport == "tls"
	not trusted
}

trusted if peer.anchor in cfg.trusted_anchors
