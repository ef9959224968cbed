//! What the commands print on standard output. A reader that went away (`rekcon run |
//! head`, a closed terminal) is not an error: the command has already written its
//! reports and ends quietly with its own exit code, instead of panicking as `print!`
//! does on a broken pipe.

use std::io::{ErrorKind, Write};

/// Writes `text` to standard output and flushes it. A closed pipe counts as written;
/// any other failure (a full disk behind a redirection) is returned.
pub fn print(text: &str) -> std::io::Result<()> {
    write_quietly(&mut std::io::stdout().lock(), text)
}

/// [`print`] to any writer.
pub fn write_quietly(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(ErrorKind::BrokenPipe.into())
        }
    }

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(ErrorKind::StorageFull.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_other_failures_are_not() {
        assert!(write_quietly(&mut Closed, "report\n").is_ok());
        assert!(write_quietly(&mut Full, "report\n").is_err());
        let mut buf = Vec::new();
        assert!(write_quietly(&mut buf, "report\n").is_ok());
        assert_eq!(buf, b"report\n");
    }
}
