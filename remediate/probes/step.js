// Remediation step, WSH dialect: the 'result' of step.ps1 for hosts without PowerShell (Windows
// NT 4.0, 2000, 2003), run by cscript //E:JScript. JScript 5.x is ECMAScript 3: no JSON object,
// no Array.prototype.forEach/map/filter/indexOf, no String.prototype.trim, no trailing commas.
// Input: REMEDIATE_ARGS, one base64 JSON document {"v":1,"action":...} set on the line before
// this code; the data is decoded and parsed here, never evaluated, never pasted into a WQL query
// or a cmd.exe line (programs start through WScript.Shell.Exec with quoted arguments).
// Output: the framed records of remediate/probes/framing.py: one 'result' record (status,
// changed, exit_code, command, message), and nothing else; the end marker is always written.
(function () {
    var BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    var WMI_FORWARD_ONLY = 48; // wbemFlagReturnImmediately | wbemFlagForwardOnly
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

    var recordCount = 0;
    var shell = null;
    var fso = null;
    var wmiService = null;

    // --- output: UTF-8, base64, records ----------------------------------------------------------
    function utf8Bytes(value) {
        var bytes = [];
        var i, c, low;
        for (i = 0; i < value.length; i++) {
            c = value.charCodeAt(i);
            if (c >= 0xD800 && c <= 0xDBFF && i + 1 < value.length) {
                low = value.charCodeAt(i + 1);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    i++;
                }
            }
            if (c >= 0xD800 && c <= 0xDFFF) {
                c = 0xFFFD; // a lone surrogate is not UTF-8
            }
            if (c < 0x80) {
                bytes.push(c);
            } else if (c < 0x800) {
                bytes.push(0xC0 | (c >> 6), 0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                bytes.push(0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F));
            } else {
                bytes.push(0xF0 | (c >> 18), 0x80 | ((c >> 12) & 0x3F),
                    0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F));
            }
        }
        return bytes;
    }

    function base64Text(bytes) {
        var out = [];
        var i, n;
        for (i = 0; i + 2 < bytes.length; i += 3) {
            n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
            out.push(BASE64.charAt(n >> 18) + BASE64.charAt((n >> 12) & 63) +
                BASE64.charAt((n >> 6) & 63) + BASE64.charAt(n & 63));
        }
        if (bytes.length - i === 1) {
            n = bytes[i] << 16;
            out.push(BASE64.charAt(n >> 18) + BASE64.charAt((n >> 12) & 63) + "==");
        } else if (bytes.length - i === 2) {
            n = (bytes[i] << 16) | (bytes[i + 1] << 8);
            out.push(BASE64.charAt(n >> 18) + BASE64.charAt((n >> 12) & 63) +
                BASE64.charAt((n >> 6) & 63) + "=");
        }
        return out.join("");
    }

    function writeLine(line) {
        WScript.StdOut.Write(line + "\r\n");
    }

    // pairs: [key, value, key, value, ...]; null and undefined values are left out.
    function writeRecord(kind, pairs) {
        var line = [kind];
        var i;
        for (i = 0; i + 1 < pairs.length; i += 2) {
            if (pairs[i + 1] === null || pairs[i + 1] === undefined) {
                continue;
            }
            line.push(pairs[i] + "=" + base64Text(utf8Bytes(String(pairs[i + 1]))));
        }
        writeLine(line.join("\t"));
        recordCount++;
    }

    function errorText(failure) {
        if (failure !== null && typeof failure === "object") {
            if (failure.message) {
                return String(failure.message);
            }
            if (failure.description) {
                return String(failure.description);
            }
            if (typeof failure.number === "number") {
                return "error 0x" + ((failure.number < 0 ? failure.number + 4294967296
                    : failure.number).toString(16));
            }
        }
        return String(failure);
    }


    // --- arguments: base64, UTF-8 and a small JSON reader ----------------------------------------
    function base64Bytes(encoded) {
        var values = {};
        var bytes = [];
        var bits = 0;
        var count = 0;
        var padding = 0;
        var i, c;
        for (i = 0; i < BASE64.length; i++) {
            values[BASE64.charAt(i)] = i;
        }
        if (encoded.length % 4 !== 0) {
            throw new Error("arguments: not base64");
        }
        for (i = 0; i < encoded.length; i++) {
            c = encoded.charAt(i);
            if (c === "=" && i >= encoded.length - 2) {
                padding++;
                continue;
            }
            if (padding > 0 || !values.hasOwnProperty(c)) {
                throw new Error("arguments: not base64");
            }
            bits = (bits << 6) | values[c];
            count += 6;
            if (count >= 8) {
                count -= 8;
                bytes.push((bits >> count) & 0xFF);
                bits &= (1 << count) - 1;
            }
        }
        return bytes;
    }

    function utf8Text(bytes) {
        var out = [];
        var i = 0;
        var b, c, extra, k;
        while (i < bytes.length) {
            b = bytes[i++];
            if (b < 0x80) {
                out.push(String.fromCharCode(b));
                continue;
            }
            if (b >= 0xF0 && b <= 0xF4) {
                extra = 3;
                c = b & 0x07;
            } else if (b >= 0xE0) {
                extra = 2;
                c = b & 0x0F;
            } else if (b >= 0xC2 && b < 0xE0) {
                extra = 1;
                c = b & 0x1F;
            } else {
                throw new Error("arguments: not UTF-8");
            }
            if (b > 0xF4 || i + extra > bytes.length) {
                throw new Error("arguments: not UTF-8");
            }
            for (k = 0; k < extra; k++) {
                b = bytes[i++];
                if ((b & 0xC0) !== 0x80) {
                    throw new Error("arguments: not UTF-8");
                }
                c = (c << 6) | (b & 0x3F);
            }
            if (c >= 0x10000) {
                c -= 0x10000;
                out.push(String.fromCharCode(0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF)));
            } else {
                out.push(String.fromCharCode(c));
            }
        }
        return out.join("");
    }

    // JSON objects keep their members under "@" + name, so no name can reach a prototype.
    function JsonObject() {
    }

    function member(value, name) {
        if (value instanceof JsonObject && value.hasOwnProperty("@" + name)) {
            return value["@" + name];
        }
        return null;
    }

    function list(value) {
        if (value === null || value === undefined) {
            return [];
        }
        return value instanceof Array ? value : [value];
    }

    function text(value) {
        return value === null || value === undefined ? "" : String(value);
    }

    function JsonReader(source) {
        this.source = source;
        this.at = 0;
    }

    JsonReader.prototype.fail = function (what) {
        throw new Error("arguments: " + what + " at " + this.at);
    };

    JsonReader.prototype.skipSpace = function () {
        var c;
        while (this.at < this.source.length) {
            c = this.source.charAt(this.at);
            if (c !== " " && c !== "\t" && c !== "\r" && c !== "\n") {
                break;
            }
            this.at++;
        }
    };

    JsonReader.prototype.next = function () {
        this.skipSpace();
        if (this.at >= this.source.length) {
            this.fail("unexpected end");
        }
        return this.source.charAt(this.at);
    };

    JsonReader.prototype.readString = function () {
        var out = [];
        var c, hex;
        this.at++; // the opening quote
        while (true) {
            if (this.at >= this.source.length) {
                this.fail("unterminated string");
            }
            c = this.source.charAt(this.at++);
            if (c === "\"") {
                return out.join("");
            }
            if (c !== "\\") {
                out.push(c);
                continue;
            }
            c = this.source.charAt(this.at++);
            if (c === "n") {
                out.push("\n");
            } else if (c === "r") {
                out.push("\r");
            } else if (c === "t") {
                out.push("\t");
            } else if (c === "b") {
                out.push("\b");
            } else if (c === "f") {
                out.push("\f");
            } else if (c === "u") {
                hex = this.source.substring(this.at, this.at + 4);
                if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
                    this.fail("bad \\u escape");
                }
                out.push(String.fromCharCode(parseInt(hex, 16)));
                this.at += 4;
            } else if (c === "\"" || c === "\\" || c === "/") {
                out.push(c);
            } else {
                this.fail("bad escape");
            }
        }
    };

    JsonReader.prototype.readValue = function () {
        var c = this.next();
        var object, array, word, number;
        if (c === "{") {
            object = new JsonObject();
            this.at++;
            if (this.next() === "}") {
                this.at++;
                return object;
            }
            while (true) {
                if (this.next() !== "\"") {
                    this.fail("expected a name");
                }
                word = this.readString();
                if (this.next() !== ":") {
                    this.fail("expected a colon");
                }
                this.at++;
                object["@" + word] = this.readValue();
                c = this.next();
                this.at++;
                if (c === "}") {
                    return object;
                }
                if (c !== ",") {
                    this.fail("expected a comma in an object");
                }
            }
        }
        if (c === "[") {
            array = [];
            this.at++;
            if (this.next() === "]") {
                this.at++;
                return array;
            }
            while (true) {
                array.push(this.readValue());
                c = this.next();
                this.at++;
                if (c === "]") {
                    return array;
                }
                if (c !== ",") {
                    this.fail("expected a comma in a list");
                }
            }
        }
        if (c === "\"") {
            return this.readString();
        }
        word = /^(true|false|null)/.exec(this.source.substring(this.at, this.at + 5));
        if (word) {
            this.at += word[1].length;
            return word[1] === "true" ? true : (word[1] === "false" ? false : null);
        }
        number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(
            this.source.substring(this.at, this.at + 64));
        if (!number) {
            this.fail("unexpected character");
        }
        this.at += number[0].length;
        return parseFloat(number[0]);
    };

    function readArguments(encoded) {
        var reader = new JsonReader(utf8Text(base64Bytes(encoded)));
        var value = reader.readValue();
        reader.skipSpace();
        if (reader.at !== reader.source.length) {
            reader.fail("text after the document");
        }
        if (!(value instanceof JsonObject)) {
            throw new Error("arguments: the document is not an object");
        }
        return value;
    }

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

    // Start a program (CreateProcess through WScript.Shell.Exec, no shell), wait for it up to
    // the timeout, and judge its exit code.
    function runProgram(program, argumentText, timeout, allowed) {
        var command = quoteArgument(program) + (argumentText ? " " + argumentText : "");
        var waited = 0;
        var exec, code, i;
        try {
            exec = shell.Exec(command);
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
                    timeout + " s and was stopped.");
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

    function wmi() {
        if (wmiService === null) {
            wmiService = GetObject(
                "winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\cimv2");
        }
        return wmiService;
    }

    // Every instance of a WMI class; the query text is ours, never the request's.
    function wmiInstances(className) {
        var found = [];
        var items = new Enumerator(wmi().ExecQuery("SELECT * FROM " + className, "WQL",
            WMI_FORWARD_ONLY));
        for (; !items.atEnd(); items.moveNext()) {
            found.push(items.item());
        }
        return found;
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

    function sysocmgr(request, name) {
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
            outcome = runProgram(program, argumentText, 3600, [0]);
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
        var program, argumentText, misfit;
        if (op !== "install" && op !== "remove") {
            return result("failed", false, "", "", "unknown component operation '" + op + "'.");
        }
        if (!COMPONENT_NAME.test(name)) {
            return result("failed", false, "", "", "invalid component name.");
        }
        if (mechanism === "sysocmgr") {
            return sysocmgr(request, name);
        }
        if (mechanism === "ocsetup") {
            program = joinPath(system32(), "ocsetup.exe");
            argumentText = quoteArgument(name) + (op === "remove" ? " /uninstall" : "") +
                " /quiet /norestart";
        } else if (mechanism === "servermanager") {
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
        return runProgram(program, argumentText, 3600, [0, 3010]);
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
    function reboot(request) {
        var delay = readNumber(member(request, "delay"), 5);
        var outcome = runProgram(joinPath(system32(), "shutdown.exe"),
            "/r /t " + delay + " /c \"remediate\"", 60, [0]);
        if (outcome.status === "ok") {
            outcome.message = "the host restarts in " + delay + " s";
        }
        return outcome;
    }

    // Win32_OperatingSystem.LastBootUpTime as WMI writes it (CIM_DATETIME): only compared.
    function bootTime() {
        return result("ok", false, 0, "", text(wmiInstances("Win32_OperatingSystem")[0]
            .LastBootUpTime));
    }

    function run(request) {
        var program = text(member(request, "program"));
        var items = list(member(request, "arguments"));
        var codes = member(request, "allowed_exit_codes");
        var parts = [];
        var allowed = [0];
        var i;
        if (program === "") {
            return result("failed", false, "", "", "no program given.");
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
