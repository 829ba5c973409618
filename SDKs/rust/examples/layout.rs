//! The layout probe: prints every struct of the ABI as this crate lays it out,
//! one line per struct and per field, in the format of LayoutTests' C probe
//! (reader "rust"). `cargo run --example layout`; LayoutTests runs it and
//! compares with Include/pincer/layout/abi-1.0.json and abi-1.1.json.
fn main() {
    print!("{}", pincer::sys::layout::report());
}
