package sip.decision_test

import data.sip
import data.sip.testing

test_federation_call_is_allowed_tagged_routed_and_logged if {
	sip.decision == {
		"allow": true,
		"alert_info": ["<http://www.notused.com>;info=alert-internal"],
		"route": {"uri": "sips:sbc.biloxi.example:5061", "expected_domain": "biloxi.example"},
		"client_domain": "fedB",
		"log": {"federation": "fedA", "peer_certificate": "verified"},
	} with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
}

test_in_dialog_request_to_an_address_is_routed_by_hosted if {
	d := sip.decision with input as testing.tls_in("fed_a_sbc", "bye_to_ip")
	d.allow
	d.route == {"uri": "sips:192.0.2.20:5061", "expected_domain": "biloxi.example"}
}

test_first_denial_by_status_is_the_response if {
	sip.decision == {
		"allow": false,
		"reject": {"status": 403, "reason": "Certificate Verification Failed"},
		"log": {"peer_certificate": "failed"},
	} with input as testing.tls_in("rogue_peer", "invite_atlanta_to_biloxi")
		with data.config.scenarios as ["from_binding", "unverified", "hosted"]
}

test_enterprise_and_bilateral_deployments if {
	d1 := sip.decision with input as testing.tls_in("enterprise_proxy", "invite_from_bob") with data.config.scenarios as ["enterprise"]
	d1 == {"allow": true}
	d2 := sip.decision with input as testing.tls_in("partner_x", "invite_itspx_to_chicago") with data.config.scenarios as ["bilateral"]
	d2 == {"allow": false, "reject": {"status": 403, "reason": "Destination Not Allowed For Partner"}, "log": {"partner": "itspx"}}
}

test_cn_access_deployment if {
	d := sip.decision with input as testing.tls_in("bob", "admin_reload") with data.config.scenarios as ["cn_access"]
	d == {"allow": false, "reject": {"status": 403, "reason": "Administrative Method Not Allowed"}}
}

test_misspelt_scenario_fails_closed if {
	d := sip.decision with input as testing.udp_in("options_to_gateway") with data.config.scenarios as ["federaton"]
	d == {"allow": false, "reject": {"status": 500, "reason": "Policy Misconfigured"}}
}

test_internal_udp_side_is_not_subject_to_tls_checks if {
	sip.decision == {"allow": true} with input as testing.udp_in("options_to_gateway")
}

# data.bastion.response_decision is per_connection (policies/data.yaml): the gateway reuses the
# first response's decision for later responses on a connection, so a response's decision must
# depend on the connection only (who sent it, how), never on the message.
test_response_decision_depends_on_the_connection_only if {
	data.bastion.response_decision == "per_connection"
	every name, _ in data.fixtures.identities {
		same_decision_for_every_response(testing.tls_in(name, "response_200_invite"))
	}
	same_decision_for_every_response(testing.udp_in("response_200_invite"))
}

same_decision_for_every_response(base) if {
	d := sip.decision with input as base
	every variant in response_variants {
		sip.decision == d with input as object.union(base, {"message": object.union(base.message, variant)})
	}
}

response_variants := [
	{"status": 180, "reason": "Ringing"},
	{"status": 486, "reason": "Busy Here"},
	{"status": 603, "reason": "Decline", "headers": {"alert-info": ["<http://x.example/ring>"]}},
	{"to": {"host": "chicago.example", "tag": "t9"}, "from": {"host": "evil.example", "user": "mallory"}},
	{"cseq": {"seq": 7, "method": "BYE"}, "call_id": "another-call"},
]

test_partner_over_its_rate_is_refused_503_and_logged if {
	busy := object.union(testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi"), {"connection": {"stats": {"identity": {"last_second": 201, "last_minute": 201}}}})
	d := sip.decision with input as busy
	d.allow == false
	d.reject == {"status": 503, "reason": "Partner Rate Exceeded"}
	d.log.partner_rate == {"per_second": 201, "per_minute": 201}
}
