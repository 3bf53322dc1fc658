# METADATA
# title: The TLS peer, as the scenario policies read it
# description: One place for what "verified", "trust anchor" and "SIP domain of a certificate" mean.
package sip.lib.peer

# The peer presented a certificate that chains to a configured CA and passed every check
# (validity, key usage, verify depth, CRL). Only TLS connections have a peer identity.
verified if {
	input.transport == "tls"
	input.identity.verified == true
}

# The trust anchor (last certificate of the verified chain) names the CA that vouches for the
# peer, e.g. "CN=Federation A Root,O=FedA".
anchor := chain[count(chain) - 1].subject.string if {
	verified
	chain := input.identity.chain
}

cn := input.identity.subject.cn if verified

fingerprint := input.identity.fingerprint.sha256 if verified

# SIP domains the certificate is valid for (RFC 5922): URI SANs `sip:<domain>`, DNS SANs, and
# the CN only when the certificate carries no SANs at all.
domains contains lower(rest) if {
	some rest in sip_uri_rests
	not contains(rest, "@")
}

domains contains lower(name) if {
	verified
	some name in input.identity.san.dns
}

domains contains lower(cn) if {
	count(input.identity.san.dns) + count(input.identity.san.uri) == 0
}

# URI SANs with a user part (`sip:bob@example.org`): exactly that address of record.
uri_identities contains lower(rest) if {
	some rest in sip_uri_rests
	contains(rest, "@")
}

# `sip:bob@example.org` -> `bob@example.org`
sip_uri_rests contains split(uri, ":")[1] if {
	verified
	some uri in input.identity.san.sip_uris
}
