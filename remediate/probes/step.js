// Remediation step, WSH dialect: the 'result' of step.ps1 for hosts without PowerShell (Windows
// NT 4.0, 2000, 2003), run by cscript //E:JScript. JScript 5.x is ECMAScript 3: no JSON object,
// no Array.prototype.forEach/map/filter/indexOf, no String.prototype.trim, no trailing commas.
// Input: REMEDIATE_ARGS, one base64 JSON document {"v":1,"action":...} set on the line before
// this code; the data is decoded and parsed here, never evaluated, never pasted into a WQL query
// or a cmd.exe line (programs start through WScript.Shell.Exec with quoted arguments).
// Output: the framed records of remediate/probes/framing.py: one 'result' record (status,
// changed, exit_code, command, message), and nothing else; the end marker is always written.
(function () {
    var OC_MANAGER = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\" +
        "OC Manager\\Subcomponents\\";
    var FILE_NOT_FOUND = "The system cannot find the file specified.";
    var COMPONENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
    // Win32_Service method return values -> the Windows error (code, message) they stand for.
    var SERVICE_ERRORS = {
        "1": [50, "The request is not supported."],
        "2": [5, "Access is denied."],
        "3": [1051, "A stop control has been sent to a service that other running services " +
            "are dependent on."],
        "4": [1052, "The requested control is not valid for this service."],
        "5": [1061, "The service cannot accept control messages at this time."],
        "6": [1062, "The service has not been started."],
        "7": [1053, "The service did not respond to the start or control request in a timely " +
            "fashion."],
        "9": [3, "The system cannot find the path specified."],
        "11": [1055, "The service database is locked."],
        "12": [1068, "The dependency service or group failed to start."],
        "13": [1075, "The dependency service does not exist or has been marked for deletion."],
        "14": [1058, "The service cannot be started, either because it is disabled or because " +
            "it has no enabled devices associated with it."],
        "15": [1069, "The service did not start due to a logon failure."],
        "16": [1072, "The specified service has been marked for deletion."],
        "21": [87, "The parameter is incorrect."]
    };
    var START_MODES = {auto: "Automatic", manual: "Manual", disabled: "Disabled"};
    var READ_MODES = {auto: "Auto", manual: "Manual", disabled: "Disabled"};

    var shell = null;
    var fso = null;

    // #include common.js

    // --- results and programs --------------------------------------------------------------------
    function result(status, changed, exitCode, command, message) {
        return {status: status, changed: changed, exitCode: exitCode, command: command,
            message: message};
    }

    function sentence(value) {
        var out = text(value).replace(/^\s+/, "").replace(/\s+$/, "");
        return out.length > 0 && out.charAt(out.length - 1) !== "." ? out + "." : out;
    }

    // The Windows error code inside an HRESULT such as 0x80070002, "" for other failures.
    function win32Code(failure) {
        var n;
        if (failure === null || typeof failure !== "object" || typeof failure.number !== "number") {
            return "";
        }
        n = failure.number < 0 ? failure.number + 4294967296 : failure.number;
        return Math.floor(n / 65536) === 0x8007 ? n % 65536 : "";
    }

    function repeat(value, count) {
        var out = "";
        var i;
        for (i = 0; i < count; i++) {
            out += value;
        }
        return out;
    }

    // One argument as CommandLineToArgvW reads it back: quoted when empty or holding blanks or
    // quotes.
    function quoteArgument(value) {
        var out = ["\""];
        var slashes = 0;
        var i, c;
        if (value.length > 0 && !/[ \t\r\n"]/.test(value)) {
            return value;
        }
        for (i = 0; i < value.length; i++) {
            c = value.charAt(i);
            if (c === "\\") {
                slashes++;
                continue;
            }
            out.push(repeat("\\", c === "\"" ? 2 * slashes + 1 : slashes), c);
            slashes = 0;
        }
        out.push(repeat("\\", 2 * slashes), "\"");
        return out.join("");
    }

    function readNumber(value, fallback) {
        var n = Number(value);
        if (value === null || value === undefined || isNaN(n)) {
            return fallback;
        }
        return Math.max(0, Math.floor(n));
    }

    // cmd.exe's view of a command line: a quote toggles quoting; outside quotes ^ & | < > ( )
    // are operators and ^ escapes them ("cmd /?": /S strips the first and last quote of the
    // text after /C; "Command shell overview", Microsoft Learn, for ^ and the operators).
    // Returns the line with those characters escaped, or null when it holds what cmd.exe cannot
    // carry as data: % (expanded even inside quotes), line breaks, or an odd number of quotes.
    function cmdEscaped(commandText) {
        var out = [];
        var quoted = false;
        var i, c;
        if (/[%\r\n\u0000]/.test(commandText)) {
            return null;
        }
        for (i = 0; i < commandText.length; i++) {
            c = commandText.charAt(i);
            if (c === "\"") {
                quoted = !quoted;
            } else if (!quoted && "^&|<>()".indexOf(c) >= 0) {
                out.push("^");
            }
            out.push(c);
        }
        return quoted ? null : out.join("");
    }

    // Start a program and wait for it up to the timeout, then judge its exit code.
    // WScript.Shell.Exec gives the child pipes for StdOut and StdErr; a child that writes more
    // than a pipe holds blocks until the script reads, and a script that only polls Status waits
    // forever (the WshScriptExec object: Status, StdOut, StdErr, ExitCode, Terminate; the
    // deadlock: T. Soulami, "Anatomy of a debugging investigation", Microsoft Press blog, 2012).
    // Reading both pipes from one thread is not safe either: TextStream Read, ReadLine and
    // AtEndOfStream block until the child writes to that pipe or closes it, while it may be
    // blocked writing the other one. So the child's output goes nowhere: the program runs
    // under cmd.exe /D /S /C with both streams sent to NUL, its exit code is cmd's exit code,
    // and Exec's own pipes carry nothing. Terminate stops cmd.exe, not its child (stated in
    // the result). Data stays data: what cmd.exe would read as an operator is escaped, and what
    // it cannot carry is refused.
    function runProgram(program, argumentText, timeout, allowed) {
        var command = quoteArgument(program) + (argumentText ? " " + argumentText : "");
        var escaped = cmdEscaped(command);
        var waited = 0;
        var exec, code, i;
        if (escaped === null) {
            return result("failed", false, "", command, "The command holds % , a line break or " +
                "an unpaired quote, which cmd.exe cannot pass to the program as data.");
        }
        if (/\\/.test(program) && !fso.FileExists(program)) {
            return result("failed", false, 2, command, FILE_NOT_FOUND);
        }
        try {
            exec = shell.Exec(quoteArgument(joinPath(system32(), "cmd.exe")) + " /D /S /C \"" +
                escaped + " >NUL 2>&1\"");
        } catch (failure) {
            return result("failed", false, win32Code(failure), command,
                sentence(errorText(failure)));
        }
        try {
            exec.StdIn.Close();
        } catch (ignored) {
            // the program may already have closed it
        }
        while (exec.Status === 0) {
            if (waited >= timeout * 1000) {
                try {
                    exec.Terminate();
                } catch (ignoredToo) {
                    // it ended meanwhile
                }
                return result("failed", false, "", command, "The program did not finish within " +
                    timeout + " s; its cmd.exe was stopped (the program itself may still run).");
            }
            WScript.Sleep(100);
            waited += 100;
        }
        code = exec.ExitCode;
        for (i = 0; i < allowed.length; i++) {
            if (allowed[i] === code) {
                return result("ok", true, code, command, "exit code " + code);
            }
        }
        return result("failed", false, code, command, "exit code " + code +
            " is not allowed (" + allowed.join(", ") + ")");
    }

    function envVar(name) {
        var token = "%" + name + "%";
        var value = String(shell.ExpandEnvironmentStrings(token));
        return value === token ? "" : value;
    }

    function joinPath(root, relative) {
        return root.replace(/\\+$/, "") + "\\" + relative.replace(/^\\+/, "");
    }

    function system32() {
        return joinPath(envVar("windir"), "system32");
    }

    // --- components ------------------------------------------------------------------------------
    function osNumber() {
        var parts = text(wmiInstances("Win32_OperatingSystem")[0].Version).split(".");
        return parseInt(parts[0], 10) * 10 + parseInt(parts[1], 10);
    }

    function ocState(name) {
        try {
            return Number(shell.RegRead(OC_MANAGER + name)) === 1;
        } catch (failure) {
            return false;
        }
    }

    function mechanismMisfit(mechanism, command) {
        var os = osNumber();
        var fits = os < 60 ? "sysocmgr" : (os === 60 ? "ocsetup" : "servermanager");
        if (mechanism === fits) {
            return null;
        }
        if (mechanism === "ocsetup" && os > 60) {
            return result("failed", false, 1, command,
                "ocsetup does not install features on Windows 6.1 and later: use servermanager.");
        }
        return result("failed", false, 2, command, FILE_NOT_FOUND);
    }

    function temporaryFile() {
        var name = "remediate-" + String(fso.GetTempName()).replace(/\.tmp$/i, "") + ".inf";
        return joinPath(String(fso.GetSpecialFolder(2).Path), name);
    }

    function sysocmgr(request, name, timeout) {
        var unattend = text(member(request, "unattend"));
        var file, program, argumentText, misfit, before, stream, outcome;
        if (unattend === "") {
            return result("failed", false, "", "", "sysocmgr needs the unattend text.");
        }
        file = temporaryFile();
        program = joinPath(system32(), "sysocmgr.exe");
        argumentText = "/i:" + joinPath(envVar("windir"), "inf\\sysoc.inf") + " /u:\"" + file +
            "\" /q /r";
        misfit = mechanismMisfit("sysocmgr", quoteArgument(program) + " " + argumentText);
        if (misfit !== null) {
            return misfit;
        }
        before = ocState(name);
        stream = fso.CreateTextFile(file, true, false);
        try {
            stream.Write(unattend);
        } finally {
            stream.Close();
        }
        try {
            outcome = runProgram(program, argumentText, timeout, [0]);
        } finally {
            try {
                fso.DeleteFile(file, true);
            } catch (ignored) {
                // already gone
            }
        }
        if (outcome.status === "ok") {
            outcome.changed = ocState(name) !== before;
        }
        return outcome;
    }

    function component(request) {
        var op = text(member(request, "op"));
        var mechanism = text(member(request, "mechanism"));
        var name = text(member(request, "name"));
        // How long sysocmgr, ocsetup or DISM may run before they are stopped: the step's own
        // timeout, which the controller sends (its wait is this plus a margin).
        var timeout = readNumber(member(request, "timeout"), 3600);
        var program, argumentText, misfit;
        if (op !== "install" && op !== "remove") {
            return result("failed", false, "", "", "unknown component operation '" + op + "'.");
        }
        if (!COMPONENT_NAME.test(name)) {
            return result("failed", false, "", "", "invalid component name.");
        }
        if (mechanism === "sysocmgr") {
            return sysocmgr(request, name, timeout);
        }
        if (mechanism === "ocsetup") {
            program = joinPath(system32(), "ocsetup.exe");
            argumentText = quoteArgument(name) + (op === "remove" ? " /uninstall" : "") +
                " /quiet /norestart";
        } else if (mechanism === "servermanager") {
            // No ServerManager module without PowerShell: DISM, which knows features by its own
            // names (IIS-WebServerRole, not Web-Server), sent as "dism" beside the ServerManager
            // name ("Installing IIS 7.0 on Windows Server 2008", cc771209(v=ws.10)).
            name = text(member(request, "dism")) || name;
            if (!COMPONENT_NAME.test(name)) {
                return result("failed", false, "", "", "invalid component name.");
            }
            program = joinPath(system32(), "dism.exe");
            argumentText = "/online " + (op === "remove" ? "/disable-feature" : "/enable-feature") +
                " " + quoteArgument("/featurename:" + name) + " /quiet /norestart";
        } else {
            return result("failed", false, "", "", "unknown component mechanism '" + mechanism +
                "'.");
        }
        misfit = mechanismMisfit(mechanism, quoteArgument(program) + " " + argumentText);
        if (misfit !== null) {
            return misfit;
        }
        return runProgram(program, argumentText, timeout, [0, 3010]);
    }

    // --- services --------------------------------------------------------------------------------
    function serviceFailure(returnValue, command) {
        var known = SERVICE_ERRORS.hasOwnProperty(String(returnValue)) ?
            SERVICE_ERRORS[String(returnValue)] : null;
        if (known === null) {
            return result("failed", false, returnValue, command, "Win32_Service returned " +
                returnValue + ".");
        }
        return result("failed", false, known[0], command, known[1]);
    }

    function findService(name) {
        var found = wmiInstances("Win32_Service");
        var wanted = name.toLowerCase();
        var i;
        for (i = 0; i < found.length; i++) {
            if (text(found[i].Name).toLowerCase() === wanted) {
                return found[i];
            }
        }
        return null;
    }

    // Poll until the state is reached or the timeout passes; a start that falls back to Stopped
    // after two seconds has failed. Returns the last state seen.
    function waitForState(name, state, timeout) {
        var waited = 0;
        var service, now;
        while (true) {
            service = findService(name);
            now = service === null ? "Stopped" : text(service.State);
            if (now === state || waited >= timeout * 1000) {
                return now;
            }
            if (state === "Running" && now === "Stopped" && waited >= 2000) {
                return now;
            }
            WScript.Sleep(500);
            waited += 500;
        }
    }

    function startService(service, command, timeout) {
        var code, state;
        if (text(service.State) === "Running") {
            return result("ok", false, 0, command, "the service is already running");
        }
        code = Number(service.StartService());
        if (code === 10) {
            return result("ok", false, 0, command, "the service is already running");
        }
        if (code !== 0) {
            return serviceFailure(code, command);
        }
        state = waitForState(text(service.Name), "Running", timeout);
        if (state === "Running") {
            return result("ok", true, 0, command, "the service is running");
        }
        if (state === "Stopped") {
            return result("failed", false, 1067, command, "The process terminated unexpectedly.");
        }
        return serviceFailure(7, command);
    }

    function stopService(service, command, timeout) {
        var code;
        if (text(service.State) === "Stopped") {
            return result("ok", false, 0, command, "the service is already stopped");
        }
        code = Number(service.StopService());
        if (code !== 0) {
            return serviceFailure(code, command);
        }
        if (waitForState(text(service.Name), "Stopped", timeout) !== "Stopped") {
            return serviceFailure(7, command);
        }
        return result("ok", true, 0, command, "the service is stopped");
    }

    function serviceStep(request) {
        var op = text(member(request, "op"));
        var name = text(member(request, "name"));
        var mode = text(member(request, "mode"));
        var timeout = readNumber(member(request, "timeout"), 120);
        var calls = {start: "StartService()", stop: "StopService()",
            restart: "StopService() StartService()"};
        var command, service, outcome, code;
        if (op === "start_mode") {
            if (!START_MODES.hasOwnProperty(mode)) {
                return result("failed", false, "", "", "unknown start mode '" + mode + "'.");
            }
            calls.start_mode = "ChangeStartMode(" + START_MODES[mode] + ")";
        }
        if (!calls.hasOwnProperty(op)) {
            return result("failed", false, "", "", "unknown service operation '" + op + "'.");
        }
        command = "Win32_Service " + quoteArgument(name) + " " + calls[op];
        service = findService(name);
        if (service === null) {
            return result("failed", false, 1060, command,
                "The specified service does not exist as an installed service.");
        }
        if (op === "start") {
            return startService(service, command, timeout);
        }
        if (op === "stop") {
            return stopService(service, command, timeout);
        }
        if (op === "restart") {
            outcome = stopService(service, command, timeout);
            if (outcome.status !== "ok") {
                return outcome;
            }
            outcome = startService(findService(name), command, timeout);
            if (outcome.status === "ok") {
                outcome.changed = true;
                outcome.message = "the service was restarted";
            }
            return outcome;
        }
        if (text(service.StartMode) === READ_MODES[mode]) {
            return result("ok", false, 0, command, "the start mode is already set");
        }
        code = Number(service.ChangeStartMode(START_MODES[mode]));
        if (code !== 0) {
            return serviceFailure(code, command);
        }
        return result("ok", true, 0, command, "the start mode is set");
    }

    // --- reboot and programs ---------------------------------------------------------------------
    // Restart through WMI: shutdown.exe came with Windows XP and Server 2003 (Windows 2000 has
    // it only in the Resource Kit: retired.beyondlogic.org/solutions/shutdown/shutdown.htm;
    // unverified against Microsoft), Win32_OperatingSystem.Win32Shutdown is there wherever WMI
    // is (Windows 2000 on; NT 4.0 with the WMI Core add-on). Flags 2 = Reboot, 6 = Forced
    // Reboot (2 + 4); 0 = success, any other value an error ("Win32Shutdown method of the
    // Win32_OperatingSystem class", Microsoft Learn). The caller needs SeShutdownPrivilege,
    // which the moniker's "(Shutdown)" enables (the VBScript example of "Win32ShutdownTracker
    // method", Microsoft Learn). Win32Shutdown has no timeout: the delay is waited here first.
    function reboot(request) {
        var delay = readNumber(member(request, "delay"), 5);
        var flags = member(request, "force") === true ? 6 : 2;
        var command = "Win32_OperatingSystem Win32Shutdown(" + flags + ")";
        var service, systems, code;
        WScript.Sleep(delay * 1000);
        try {
            service = GetObject(
                "winmgmts:{impersonationLevel=impersonate,(Shutdown)}!\\\\.\\root\\cimv2");
            systems = new Enumerator(service.ExecQuery("SELECT * FROM Win32_OperatingSystem",
                "WQL", WMI_FORWARD_ONLY));
            code = Number(systems.item().Win32Shutdown(flags));
        } catch (failure) {
            return result("failed", false, win32Code(failure), command,
                sentence(errorText(failure)));
        }
        if (code !== 0) {
            return result("failed", false, code, command, "Win32Shutdown returned " + code + ".");
        }
        return result("ok", true, 0, command, "the host is restarting");
    }

    // Win32_OperatingSystem.LastBootUpTime as WMI writes it (CIM_DATETIME): only compared.
    function bootTime() {
        return result("ok", false, 0, "", text(wmiInstances("Win32_OperatingSystem")[0]
            .LastBootUpTime));
    }

    // --- files: put_file, and the checked copy of a run step's program -------------------------
    // JScript cannot read a byte array itself: MSXML's typed nodes turn base64 into bytes
    // (bin.base64) and bytes into hex (bin.hex) ("Data Types in Schemas", MSXML SDK;
    // Microsoft.XMLDOM is the version-independent ProgID), and ADODB.Stream reads and writes
    // binary files (ADO 2.5, with Windows 2000: "Stream Object (ADO)", Microsoft Learn).
    function typedNode(type) {
        var node = new ActiveXObject("Microsoft.XMLDOM").createElement("b");
        node.dataType = type;
        return node;
    }

    function fileSize(path) {
        return fso.FileExists(path) ? Number(fso.GetFile(path).Size) : -1;
    }

    // One chunk of a file the controller sends: offset 0 creates (or empties) the file, any
    // other offset must be the file's length (a lost or repeated chunk fails, never a hole).
    function putFile(request) {
        var path = text(member(request, "path"));
        var offset = readNumber(member(request, "offset"), 0);
        var data = text(member(request, "data"));
        var command = "put_file " + quoteArgument(path) + " at " + offset;
        var node, stream;
        if (path === "") {
            return result("failed", false, "", "", "no path given.");
        }
        if (offset > 0 && fileSize(path) !== offset) {
            return result("failed", false, "", command, "the file holds " + fileSize(path) +
                " bytes, not " + offset + ": a chunk is missing.");
        }
        node = typedNode("bin.base64");
        node.text = data;
        stream = new ActiveXObject("ADODB.Stream");
        stream.Type = 1; // adTypeBinary
        stream.Open();
        try {
            if (offset > 0) {
                stream.LoadFromFile(path);
                stream.Position = stream.Size;
            }
            if (data !== "") {
                stream.Write(node.nodeTypedValue);
            }
            stream.SaveToFile(path, 2); // adSaveCreateOverWrite
        } finally {
            stream.Close();
        }
        return result("ok", true, 0, command, fileSize(path) + " bytes written");
    }

    // SHA-256 of a file in lowercase hex, or null when this host cannot compute it. WSH has no
    // hash of its own: .NET's SHA256Managed is COM-creatable where the .NET Framework 2.0 is
    // installed (ComputeHash_2 is ComputeHash(byte[]) as COM names overloads, name_2, name_3...:
    // KB 317626; that HashAlgorithm declares the Stream overload first is unverified; that Windows
    // 2000/2003 without .NET lack it, and that the ProgID is registered by every .NET 2.0
    // install, is unverified). certutil -hashfile is not used: SHA-256 in CryptoAPI needs
    // Windows Vista/2008 or later (WinBatch FileDigest docs; unverified for certutil on 2003).
    function sha256Hex(path) {
        var hasher, stream, node;
        try {
            hasher = new ActiveXObject("System.Security.Cryptography.SHA256Managed");
        } catch (failure) {
            return null;
        }
        stream = new ActiveXObject("ADODB.Stream");
        stream.Type = 1; // adTypeBinary
        stream.Open();
        try {
            stream.LoadFromFile(path);
            node = typedNode("bin.hex");
            node.nodeTypedValue = hasher.ComputeHash_2(stream.Read());
        } finally {
            stream.Close();
        }
        return text(node.text).toLowerCase();
    }

    function removeFile(path) {
        try {
            fso.DeleteFile(path, true);
        } catch (ignored) {
            // already gone
        }
    }

    // Put a run step's program in place only when it has the planned SHA-256: from a share
    // (the host copies it) or from the file put_file assembled. null when the program is in
    // place, else the failed result (the staged copy is removed).
    function copyChecked(copy, program) {
        var from = text(member(copy, "from"));
        var staged = text(member(copy, "staged"));
        var wanted = text(member(copy, "sha256")).toLowerCase();
        var command = "copy " + quoteArgument(from !== "" ? from : staged) + " " +
            quoteArgument(program);
        var found;
        if (staged === "" || !/^[0-9a-f]{64}$/.test(wanted)) {
            return result("failed", false, "", "", "copy: the staged path and the sha256 are " +
                "needed.");
        }
        try {
            if (from !== "") {
                fso.GetFile(from).Copy(staged, true); // File.Copy: no wildcards, unlike CopyFile
            }
            if (!fso.FileExists(staged)) {
                return result("failed", false, 2, command, FILE_NOT_FOUND);
            }
            found = sha256Hex(staged);
            if (found === null) {
                removeFile(staged);
                return result("failed", false, "", command, "Cannot check the copied file's " +
                    "SHA-256 on this host (System.Security.Cryptography.SHA256Managed needs the " +
                    ".NET Framework 2.0): it was not run.");
            }
            if (found !== wanted) {
                removeFile(staged);
                return result("failed", false, "", command, "The copied file has SHA-256 " +
                    found + ", not the planned " + wanted + ": it was not run.");
            }
            fso.GetFile(staged).Copy(program, true);
            removeFile(staged);
        } catch (failure) {
            return result("failed", false, win32Code(failure), command,
                sentence(errorText(failure)));
        }
        return null;
    }

    function run(request) {
        var program = text(member(request, "program"));
        var items = list(member(request, "arguments"));
        var codes = member(request, "allowed_exit_codes");
        var parts = [];
        var allowed = [0];
        var i, copied;
        if (program === "") {
            return result("failed", false, "", "", "no program given.");
        }
        if (member(request, "copy") !== null) {
            copied = copyChecked(member(request, "copy"), program);
            if (copied !== null) {
                return copied;
            }
        }
        for (i = 0; i < items.length; i++) {
            parts.push(quoteArgument(text(items[i])));
        }
        if (codes !== null) {
            allowed = [];
            codes = list(codes);
            for (i = 0; i < codes.length; i++) {
                allowed.push(Math.floor(Number(codes[i])));
            }
        }
        return runProgram(program, parts.join(" "), readNumber(member(request, "timeout"), 3600),
            allowed);
    }

    function runStep(request) {
        var kind = text(member(request, "action"));
        if (text(member(request, "v")) !== "1") {
            return result("failed", false, "", "", "step v1 cannot read arguments of version " +
                text(member(request, "v")) + ".");
        }
        if (kind === "component") {
            return component(request);
        }
        if (kind === "service") {
            return serviceStep(request);
        }
        if (kind === "reboot") {
            return reboot(request);
        }
        if (kind === "run") {
            return run(request);
        }
        if (kind === "put_file") {
            return putFile(request);
        }
        if (kind === "boot_time") {
            return bootTime();
        }
        return result("failed", false, "", "", "unknown action '" + kind + "'.");
    }

    // --- main ------------------------------------------------------------------------------------
    var outcome;
    writeLine("REMEDIATE-OUTPUT 1 step");
    try {
        if (typeof REMEDIATE_ARGS !== "string") {
            throw new Error("arguments: REMEDIATE_ARGS is not set");
        }
        shell = new ActiveXObject("WScript.Shell");
        fso = new ActiveXObject("Scripting.FileSystemObject");
        outcome = runStep(readArguments(REMEDIATE_ARGS));
    } catch (failure) {
        outcome = result("failed", false, "", "", sentence(errorText(failure)));
    }
    writeRecord("result", ["status", outcome.status, "changed", outcome.changed ? "1" : "0",
        "exit_code", outcome.exitCode, "command", outcome.command, "message", outcome.message]);
    writeLine("REMEDIATE-END " + recordCount);
})();
