fn main() {
    std::process::exit(linkaudit_cli_placeholder());
}

fn linkaudit_cli_placeholder() -> i32 {
    eprintln!("linkaudit: the CLI is being written (issue #3)");
    2
}
