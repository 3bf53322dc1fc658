package sip.scenario.from_binding_test

import data.sip.scenario.from_binding
import data.sip.testing

deny_403 := {{"status": 403, "reason": "From Not Covered By Certificate"}}

test_domain_certificate_covers_its_users if {
	count(from_binding.deny) == 0 with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
}

test_domain_certificate_does_not_cover_other_domains if {
	from_binding.deny == deny_403 with input as testing.tls_in("fed_a_sbc", "invite_from_other_domain")
}

test_sip_uri_certificate_covers_exactly_that_uri if {
	count(from_binding.deny) == 0 with input as testing.tls_in("bob", "invite_from_bob")
	from_binding.deny == deny_403 with input as testing.tls_in("bob", "invite_from_mallory")
}

test_cn_mapping_covers_listed_identities if {
	count(from_binding.deny) == 0 with input as testing.tls_in("phone_mac", "invite_from_carol")
	from_binding.deny == deny_403 with input as testing.tls_in("phone_mac", "invite_from_mallory")
}

test_cn_mapping_with_a_bare_domain_covers_the_domain if {
	count(from_binding.deny) == 0
		with input as testing.tls_in("phone_mac", "invite_from_mallory")
		with input.identity.mapped_identities as ["example.org"]
}

test_trusted_proxy_is_exempt if {
	count(from_binding.deny) == 0 with input as testing.tls_in("trusted_proxy", "invite_from_other_domain")
}

test_email_san_is_not_a_sip_identity_by_default if {
	from_binding.deny == deny_403 with input as testing.tls_in("email_only", "invite_from_carol")
}

test_email_san_counts_when_the_operator_says_so if {
	count(from_binding.deny) == 0 with input as testing.tls_in("email_only", "invite_from_carol")
		with data.config.from_binding.email_san_is_sip_identity as true
}

test_certificate_without_sans_is_a_domain_certificate_for_its_cn if {
	count(from_binding.deny) == 0
		with input as testing.tls_in("phone_mac", "invite_from_mallory")
		with input.identity.subject.cn as "example.org"
		with input.identity.mapped_identities as []
}

test_unverified_peer_covers_nothing if {
	from_binding.deny == deny_403 with input as testing.tls_in("rogue_peer", "invite_atlanta_to_biloxi")
}
