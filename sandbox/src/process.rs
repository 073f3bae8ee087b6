//! A child process that leads a process group of its own, is signalled as a group, and cannot
//! outlive its owner: dropped, it is killed; if the whole test process dies, the child sees its
//! standard input close and exits.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

unsafe extern "C" {
    /// kill(2): sends `signal` to a process, or to every process of a group when `pid` is the
    /// group's id negated. It touches no memory of ours, so calling it is safe.
    safe fn kill(pid: i32, signal: i32) -> i32;
}

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
/// errno for "no such process": the group is already gone.
const ESRCH: i32 = 3;

/// A spawned process group; see the module documentation.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    child: Child,
    /// The write end of the child's stdin. Nothing is ever written: it exists to be closed by
    /// the kernel when this process dies, which the child watches for.
    _stdin: Option<ChildStdin>,
    status: Option<ExitStatus>,
}

impl ProcessGroup {
    /// Spawns `command` as the leader of a new process group, with a pipe as its stdin.
    pub(crate) fn spawn(mut command: Command) -> io::Result<Self> {
        command.process_group(0).stdin(Stdio::piped());
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        Ok(ProcessGroup { child, _stdin: stdin, status: None })
    }

    /// The leader's process id, which is also the group's id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// The leader's exit status if it has exited, reaping it.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Kills the whole group at once and reaps the leader.
    pub(crate) fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        self.signal(SIGKILL)?;
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }

    /// Asks the group to terminate, and kills it if the leader has not exited after `grace`.
    pub(crate) fn terminate(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        self.signal(SIGTERM)?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.kill()
    }

    /// Signals the group. Only while the leader is unreaped: until then its id, and so the
    /// group's, cannot have been reused by an unrelated process.
    fn signal(&self, signal: i32) -> io::Result<()> {
        let Ok(group) = i32::try_from(self.child.id()) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"));
        };
        if kill(-group, signal) == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(ESRCH) { Ok(()) } else { Err(error) }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn alive(pid: u32) -> bool {
        Path::new(&format!("/proc/{pid}")).exists()
    }

    /// A shell that starts a grandchild in the same group and reports its pid.
    fn shell_with_grandchild() -> (ProcessGroup, u32) {
        use std::io::{BufRead, BufReader};
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 600 & echo $!; wait"]).stdout(Stdio::piped());
        let mut group = ProcessGroup::spawn(command).unwrap();
        let stdout = group.child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        (group, line.trim().parse().unwrap())
    }

    #[test]
    fn dropping_kills_the_whole_group() {
        let (group, grandchild) = shell_with_grandchild();
        let leader = group.id();
        assert!(alive(leader) && alive(grandchild));
        drop(group);
        assert!(!alive(leader));
        // The grandchild is reaped by init, which takes a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(grandchild) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(grandchild), "the grandchild {grandchild} outlived its group");
    }

    #[test]
    fn terminate_gives_way_to_kill_after_the_grace_period() {
        let mut command = Command::new("sh");
        command.args(["-c", "trap '' TERM; sleep 600 & wait"]);
        let mut group = ProcessGroup::spawn(command).unwrap();
        thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let status = group.terminate(Duration::from_millis(300)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(!status.success());
        // Killing or terminating again is harmless.
        assert_eq!(group.kill().unwrap(), status);
    }

    #[test]
    fn the_child_sees_its_stdin_close_when_the_owner_lets_go() {
        let mut command = Command::new("sh");
        command.args(["-c", "cat >/dev/null; exit 7"]);
        let mut group = ProcessGroup::spawn(command).unwrap();
        assert!(group.try_wait().unwrap().is_none());
        group._stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = group.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the child did not notice its stdin close");
            thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(7));
    }
}
