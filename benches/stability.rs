//! floral-stability speed (filled in with the command and its tests).

fn main() {}
