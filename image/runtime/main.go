// Command current-caps-runc is an OCI runtime for the Docker engine this project starts by
// hand. Where the engine itself runs without some capabilities (these machines' sandbox has
// no CAP_SYS_RESOURCE in its bounding set), a privileged container (kind's node) asks runc
// for every capability Docker knows and runc fails with "unable to apply caps: operation not
// permitted" (and so does `docker exec --privileged`). This wrapper removes, from the bundle's
// config.json on create and run and from the process file on exec, each capability its own
// bounding set lacks (what containerd's WithAllCurrentCapabilities does for privileged pods),
// then execs runc with the same arguments. Nothing else changes.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames are the capability numbers' names, as the OCI spec writes them.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func main() {
	runc, err := exec.LookPath("runc")
	if err != nil {
		fail("runc is not on PATH: %v", err)
	}
	args := os.Args[1:]
	if bundle, ok := bundleOf(args); ok {
		if err := dropMissing(filepath.Join(bundle, "config.json"), true); err != nil {
			fail("%v", err)
		}
	}
	if file, ok := processFileOf(args); ok {
		if err := dropMissing(file, false); err != nil {
			fail("%v", err)
		}
	}
	if err := syscall.Exec(runc, append([]string{"runc"}, args...), os.Environ()); err != nil {
		fail("exec %s: %v", runc, err)
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "current-caps-runc: "+format+"\n", a...)
	os.Exit(1)
}

// bundleOf returns the bundle folder of a create or run command (--bundle, -b, else the working directory).
func bundleOf(args []string) (string, bool) {
	value, isCommand := flagOf(args, []string{"create", "run"}, "--bundle", "-b")
	if !isCommand {
		return "", false
	}
	if value == "" {
		return ".", true
	}
	return value, true
}

// processFileOf returns the process file of an exec command (--process or -p), if it names one.
func processFileOf(args []string) (string, bool) {
	value, isCommand := flagOf(args, []string{"exec"}, "--process", "-p")
	return value, isCommand && value != ""
}

// flagOf finds the first of commands in args and returns the value of its flag (long or
// short, "--long v", "--long=v", "-s v" or "-s=v"; "" when absent) and whether the command was there.
func flagOf(args []string, commands []string, long, short string) (string, bool) {
	command := -1
	for i, a := range args {
		for _, c := range commands {
			if a == c && command < 0 {
				command = i
			}
		}
	}
	if command < 0 {
		return "", false
	}
	rest := args[command+1:]
	for i, a := range rest {
		switch {
		case (a == long || a == short) && i+1 < len(rest):
			return rest[i+1], true
		case strings.HasPrefix(a, long+"="):
			return strings.TrimPrefix(a, long+"="), true
		case strings.HasPrefix(a, short+"="):
			return strings.TrimPrefix(a, short+"="), true
		}
	}
	return "", true
}

// dropMissing rewrites the capability sets of a spec (inSpec: under "process") or of a
// process file without the capabilities this process cannot hold.
func dropMissing(path string, inSpec bool) error {
	missing, err := missingCaps()
	if err != nil || len(missing) == 0 {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	process := spec
	if inSpec {
		process, _ = spec["process"].(map[string]any)
	}
	caps, _ := process["capabilities"].(map[string]any)
	if caps == nil {
		return nil
	}
	for set, v := range caps {
		list, _ := v.([]any)
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, _ := c.(string); !missing[name] {
				kept = append(kept, c)
			}
		}
		caps[set] = kept
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// missingCaps names the capabilities absent from this process's bounding set.
func missingCaps() (map[string]bool, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if !strings.HasPrefix(line, "CapBnd:") {
			continue
		}
		bounding, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapBnd:")), 16, 64)
		if err != nil {
			return nil, err
		}
		missing := map[string]bool{}
		for i, name := range capNames {
			if bounding&(1<<uint(i)) == 0 {
				missing[name] = true
			}
		}
		return missing, nil
	}
	return nil, fmt.Errorf("/proc/self/status has no CapBnd line")
}
