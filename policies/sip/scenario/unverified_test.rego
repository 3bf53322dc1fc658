package sip.scenario.unverified_test

import data.sip.scenario.unverified
import data.sip.testing

test_verified_peer if {
	inp := testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
	unverified.state == "verified" with input as inp
	count(unverified.deny) == 0 with input as inp
}

test_peer_without_certificate_may_use_anonymous_methods_only if {
	inp := testing.tls_in("no_certificate", "options_to_gateway")
	unverified.state == "none" with input as inp
	unverified.log == {"peer_certificate": "none"} with input as inp
	count(unverified.deny) == 0 with input as inp
	unverified.deny == {{"status": 403, "reason": "Certificate Required"}} with input as testing.tls_in("no_certificate", "invite_atlanta_to_biloxi")
}

test_certificate_failing_verification_is_refused if {
	inp := testing.tls_in("rogue_peer", "options_to_gateway")
	unverified.state == "failed" with input as inp
	unverified.deny == {{"status": 403, "reason": "Certificate Verification Failed"}} with input as inp
}
