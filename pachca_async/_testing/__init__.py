"""Test doubles behind `pachca_async.testing`: `FakePachca` (the API served on loopback) with its
routes, request records and server-side rate limits, `LocalBot`, `MockTransport`, and the
builders of Pachca's JSON documents. Import them from `pachca_async.testing`, not from here."""
