package sip.scenario.trusted_call_test

import data.sip.scenario.trusted_call
import data.sip.testing

test_trusted_invite_is_tagged_for_the_callee_phone if {
	trusted_call.alert_info == ["<http://www.notused.com>;info=alert-internal"] with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
	trusted_call.alert_info == ["Bellcore-dr4"] with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_chicago")
}

test_unknown_callee_gets_the_default_tag if {
	trusted_call.alert_info == ["<http://ring.example/trusted.wav>"] with input as testing.tls_in("fed_a_sbc", "invite_to_unknown_domain")
}

test_untrusted_invite_loses_forged_alert_info if {
	trusted_call.alert_info == [] with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi")
	trusted_call.alert_info == [] with input as testing.udp_in("invite_atlanta_to_biloxi")
}

# S8: a peer without a certificate is unverified, so its calls are never tagged.
test_peer_without_certificate_is_not_tagged if {
	trusted_call.alert_info == [] with input as testing.tls_in("no_certificate", "invite_atlanta_to_biloxi")
}

test_other_methods_are_left_alone if {
	not trusted_call.alert_info with input as testing.tls_in("fed_a_sbc", "options_to_gateway")
}
