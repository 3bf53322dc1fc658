package sip.scenario.enterprise_test

import data.sip.scenario.enterprise
import data.sip.testing

test_company_proxy_is_trusted if {
	inp := testing.tls_in("enterprise_proxy", "options_to_gateway")
	enterprise.trusted with input as inp
	count(enterprise.deny) == 0 with input as inp
}

test_other_ca_is_refused if {
	inp := testing.tls_in("fed_a_sbc", "options_to_gateway")
	enterprise.deny == {{"status": 403, "reason": "Certificate Not Trusted"}} with input as inp
}

test_unverified_peer_is_refused if {
	inp := testing.tls_in("rogue_peer", "options_to_gateway")
	enterprise.deny == {{"status": 403, "reason": "Certificate Not Trusted"}} with input as inp
}
