package sip.scenario.cn_access_test

import data.sip.scenario.cn_access
import data.sip.testing

test_bob_may_send_requests if {
	count(cn_access.deny) == 0 with input as testing.tls_in("bob", "message_to_bob")
}

test_other_cn_is_forbidden if {
	cn_access.deny == {{"status": 403, "reason": "Forbidden"}} with input as testing.tls_in("alice", "message_to_bob")
}

test_unverified_peer_gets_the_operators_status if {
	cn_access.deny == {{"status": 401, "reason": "Verified Certificate Required"}} with input as testing.tls_in("no_certificate", "message_to_bob")
}

test_admin_method_only_for_the_named_certificate if {
	count(cn_access.deny) == 0 with input as testing.tls_in("bob_admin", "admin_reload")
	cn_access.deny == {{"status": 403, "reason": "Administrative Method Not Allowed"}} with input as testing.tls_in("bob", "admin_reload")
}

test_responses_are_not_checked if {
	count(cn_access.deny) == 0 with input as testing.tls_in("alice", "response_200_invite")
}
