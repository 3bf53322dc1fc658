// The decision → action mapping, without sockets: every row of the table in action.ts.
import { describe, expect, it } from 'vitest';
import { actionFor, type Subject } from './action.js';

const invite: Subject = { kind: 'request', method: 'INVITE' };
const ack: Subject = { kind: 'request', method: 'ACK' };
const cancel: Subject = { kind: 'request', method: 'CANCEL' };
const ringing: Subject = { kind: 'response', status: 180 };
const ok: Subject = { kind: 'response', status: 200 };
const busy: Subject = { kind: 'response', status: 486 };

describe('actionFor', () => {
  it('answers a denied request with the decision status and reason', () => {
    expect(actionFor(invite, { allow: false, reject: { status: 403, reason: 'Untrusted Peer' } })).toEqual({ type: 'reply', status: 403, reason: 'Untrusted Peer' });
    expect(actionFor(cancel, { allow: false, reject: { status: 401, reason: 'No Certificate' } })).toEqual({ type: 'reply', status: 401, reason: 'No Certificate' });
  });

  it('takes the RFC 3261 phrase when the reject has no reason, 403 Forbidden when there is no reject', () => {
    expect(actionFor(invite, { allow: false, reject: { status: 401 } })).toEqual({ type: 'reply', status: 401, reason: 'Unauthorized' });
    expect(actionFor(invite, { allow: false, reject: { status: 488 } })).toEqual({ type: 'reply', status: 488, reason: 'Not Acceptable Here' });
    expect(actionFor(invite, { allow: false })).toEqual({ type: 'reply', status: 403, reason: 'Forbidden' });
  });

  it('drops a denied ACK (never answered) and a denied provisional response', () => {
    expect(actionFor(ack, { allow: false, reject: { status: 403, reason: 'No' } })).toEqual({ type: 'drop' });
    expect(actionFor(ringing, { allow: false, reject: { status: 403, reason: 'No' } })).toEqual({ type: 'drop' });
  });

  it('replaces a denied final response, success or failure, with the decision status', () => {
    expect(actionFor(ok, { allow: false, reject: { status: 502, reason: 'Untrusted Callee' } })).toEqual({ type: 'reply', status: 502, reason: 'Untrusted Callee' });
    expect(actionFor(busy, { allow: false, reject: { status: 500, reason: 'Policy Error' } })).toEqual({ type: 'reply', status: 500, reason: 'Policy Error' });
  });

  it('forwards an allowed request with the Alert-Info, route and client domain of the decision', () => {
    const d = {
      allow: true,
      alert_info: ['<http://www.notused.com>;info=alert-internal'],
      route: { uri: 'sip:127.0.0.1:5071;transport=tls', expected_domain: 'biloxi.example' },
      client_domain: 'fedB',
      log: { partner: 'biloxi' },
    };
    expect(actionFor(invite, d)).toEqual({
      type: 'forward',
      plan: { alertInfo: ['<http://www.notused.com>;info=alert-internal'], route: { uri: 'sip:127.0.0.1:5071;transport=tls', expectedDomain: 'biloxi.example' }, clientDomain: 'fedB' },
    });
    expect(actionFor(ack, { allow: true, route: { uri: 'sip:10.0.0.1' } })).toEqual({ type: 'forward', plan: { route: { uri: 'sip:10.0.0.1' } } });
  });

  it('keeps incoming Alert-Info unless the decision names one; an empty list removes them all', () => {
    expect(actionFor(invite, { allow: true })).toEqual({ type: 'forward', plan: {} });
    expect(actionFor(invite, { allow: true, alert_info: [] })).toEqual({ type: 'forward', plan: { alertInfo: [] } });
  });

  it('relays an allowed response untouched: header edits, routes and client domains are for requests', () => {
    expect(actionFor(ok, { allow: true, alert_info: ['Bellcore-dr4'], client_domain: 'fedA' })).toEqual({ type: 'forward', plan: {} });
    expect(actionFor(ringing, { allow: true })).toEqual({ type: 'forward', plan: {} });
  });
});
