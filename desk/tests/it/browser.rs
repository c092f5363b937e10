//! Browser tests (see browser_desk_sign_in).
