//! SSRF guard: destinations may not reach loopback, private, link-local or cloud-metadata
//! addresses unless the operator allows private destinations.
//! (To be written: see `guarded_client` and `check_url`.)
