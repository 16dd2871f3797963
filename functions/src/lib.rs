//! The Lambda handlers (issue 7): each binary in `src/bin` builds its clients once and hands them
//! to a handler here, which tests call directly.
