//! Holds the integration test binary; see integration/.
