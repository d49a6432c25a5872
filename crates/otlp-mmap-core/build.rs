//! Compiles `proto/mmap.proto` into prost types. There is no `protoc` on the
//! build machines: protox parses the file into a descriptor set in Rust and
//! prost-build generates code from that.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = "../../proto";
    let proto = "../../proto/mmap.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], [proto_dir])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
