//! floral-report's public contract (insta snapshots under `snapshots/`).

mod render;
