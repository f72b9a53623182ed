// Collector, WSH dialect: the records of collect.ps1 for hosts without PowerShell (Windows NT
// 4.0, 2000, 2003), run by cscript //E:JScript. JScript 5.x is ECMAScript 3: no JSON object, no
// Array.prototype.forEach/map/filter/indexOf, no String.prototype.trim, no trailing commas.
// Input: REMEDIATE_ARGS, one base64 JSON document set on the line before this code; the data is
// decoded and parsed here, never evaluated, and never pasted into a WQL query.
// Output: the framed records of remediate/probes/framing.py, and nothing else.
// Every failure becomes an 'error' record; the end marker is always written.
(function () {
    var HKLM = "HKEY_LOCAL_MACHINE\\";
    var EXCHANGE_SETUP = HKLM + "SOFTWARE\\Microsoft\\Exchange\\Setup\\";
    var LEGACY_SETUP_KEY = "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup";
    var OC_MANAGER = HKLM +
        "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\OC Manager\\Subcomponents\\";
    var REBOOT_KEYS = [
        "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
        "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
    ];
    var EXCHANGE_SERVICES = ["msexchangeis", "msexchangesa", "msexchangemta"];
    // Where each version keeps its install folder (remediate/lab/registry.py has the sources):
    // 2013 to SE ...\ExchangeServer\v15\Setup and 2010 ...\v14\Setup, value MsiInstallPath
    // (CSS-Exchange Get-ExchangeInstallDirectory.ps1, HealthChecker
    // Get-ExchangeRegistryValues.ps1); 2007 SOFTWARE\Microsoft\Exchange\Setup, MsiInstallPath
    // (Microsoft's support diagnostic DC_ChkSym_DPM.ps1); 5.5 to 2003 its Services value (KB
    // Q147374, Q149205). Roles: the subkeys of `roles` (HealthChecker tests
    // v15\EdgeTransportRole). `store`: bin\store.exe may give the build when ExSetup.exe cannot.
    var EXCHANGE_SETUPS = [
        {key: "SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup",
            roles: "SOFTWARE\\Microsoft\\ExchangeServer\\v15", store: false},
        {key: "SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
            roles: "SOFTWARE\\Microsoft\\ExchangeServer\\v14", store: true},
        {key: "SOFTWARE\\Microsoft\\Exchange\\Setup",
            roles: "SOFTWARE\\Microsoft\\Exchange\\v8.0", store: true}
    ];
    var EXCHANGE_ROLE_KEYS = [
        ["MailboxRole", "Mailbox"], ["ClientAccessRole", "ClientAccess"],
        ["CafeRole", "ClientAccess"], ["HubTransportRole", "HubTransport"],
        ["EdgeTransportRole", "EdgeTransport"], ["UnifiedMessagingRole", "UnifiedMessaging"],
        ["FrontendTransportRole", "FrontendTransport"], ["AdminTools", "Management"]
    ];
    var EXCHANGE_ROLE_ORDER = ["Mailbox", "ClientAccess", "HubTransport", "EdgeTransport",
        "UnifiedMessaging", "FrontendTransport", "Management"];
    var HKEY_LOCAL_MACHINE = 0x80000002; // StdRegProv hDefKey
    var LOG_NAME = /^[A-Za-z0-9 _-]+$/;
    // Only what the collector reads from an event (no SELECT *: the rest is not fetched).
    var EVENT_FIELDS = ["EventCode", "EventType", "Type", "SourceName", "TimeGenerated",
        "Message", "Data", "RecordNumber"];
    var MAX_WQL_KEYWORDS = 40;

    var osMajor = 5;
    var exchangeRoot = null;
    var exchangeVersion = null; // "6.5", "15.2" from the build; "" unreadable; null: no Exchange
    var services = {}; // "s:" + lower-case name -> {name, state, startMode, pathName}
    var shell = null;
    var fso = null;
    var registry = null; // {provider, context}: StdRegProv in the 64-bit view

    // #include common.js

    function writeError(scope, item, failure) {
        writeRecord("error", ["scope", scope, "item", text(item), "message", errorText(failure)]);
    }

    function writeFact(name, value) {
        writeRecord("fact", ["name", name, "value", value]);
    }

    // --- host access -----------------------------------------------------------------------------
    function trimSpace(value) {
        return value.replace(/^\s+/, "").replace(/\s+$/, "");
    }

    function envVar(name) {
        var token = "%" + name + "%";
        var value = String(shell.ExpandEnvironmentStrings(token));
        return value === token ? "" : value;
    }

    // A registry value, or null when it cannot be read (missing, like Get-ItemProperty's null).
    function regValue(path) {
        try {
            return shell.RegRead(path);
        } catch (failure) {
            return null;
        }
    }

    // RegRead cannot tell a missing key from a key without a default value: ask StdRegProv.
    function regKeyExists(subKey) {
        var provider = GetObject(
            "winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\default:StdRegProv");
        var input = provider.Methods_.Item("EnumKey").InParameters.SpawnInstance_();
        var output;
        input.hDefKey = 0x80000002; // HKEY_LOCAL_MACHINE
        input.sSubKeyName = subKey;
        output = provider.ExecMethod_("EnumKey", input);
        return Number(output.ReturnValue) === 0;
    }

    // HKLM\SOFTWARE in the 64-bit view whatever this process is: a 32-bit cscript (SysWOW64,
    // or started by a 32-bit service) on 64-bit Windows reads SOFTWARE through
    // SOFTWARE\Wow6432Node ("Registry Redirector", Microsoft Learn), where RegRead finds no
    // Exchange. The registry provider is asked with __ProviderArchitecture=64 in the context of
    // each call ("Requesting WMI Data on a 64-bit Platform", Microsoft Learn: the context goes
    // to SWbemServices.ExecMethod's objWbemNamedValueSet; __RequiredArchitecture is not set, so
    // on 32-bit Windows the one provider answers).
    function registryProvider() {
        var context = null;
        var wmiNamespace;
        if (registry === null) {
            if (architecture() !== "x86") {
                context = new ActiveXObject("WbemScripting.SWbemNamedValueSet");
                context.Add("__ProviderArchitecture", 64);
            }
            wmiNamespace = new ActiveXObject("WbemScripting.SWbemLocator").ConnectServer(".",
                "root\\default");
            wmiNamespace.Security_.ImpersonationLevel = 3; // impersonate
            registry = {provider: wmiNamespace.Get("StdRegProv"), context: context};
        }
        return registry;
    }

    // One StdRegProv call: the output field, or null when the key or value is not there.
    function registryCall(method, subKey, valueName, field) {
        var reg = registryProvider();
        var input = reg.provider.Methods_.Item(method).InParameters.SpawnInstance_();
        var output;
        input.hDefKey = HKEY_LOCAL_MACHINE;
        input.sSubKeyName = subKey;
        if (valueName !== null) {
            input.sValueName = valueName;
        }
        if (reg.context === null) {
            output = reg.provider.ExecMethod_(method, input);
        } else {
            output = reg.provider.ExecMethod_(method, input, 0, reg.context);
        }
        if (Number(output.ReturnValue) !== 0) {
            return null;
        }
        return output[field];
    }

    // A SAFEARRAY (REG_MULTI_SZ, uint8[]) as a JScript array; a lone string as a list of one.
    function safeArray(value) {
        if (value === null || value === undefined) {
            return [];
        }
        if (typeof value === "string") {
            return [value];
        }
        return new VBArray(value).toArray();
    }

    // --- times -----------------------------------------------------------------------------------
    function pad(number, width) {
        var out = String(number);
        while (out.length < width) {
            out = "0" + out;
        }
        return out;
    }

    function utcText(milliseconds) {
        var d = new Date(milliseconds);
        return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" +
            pad(d.getUTCDate(), 2) + "T" + pad(d.getUTCHours(), 2) + ":" +
            pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2) + "Z";
    }

    function wmiTimeText(milliseconds) {
        var d = new Date(milliseconds);
        return pad(d.getUTCFullYear(), 4) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) +
            pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2) +
            ".000000+000";
    }

    // CIM datetime "yyyymmddHHMMSS.ffffff+UUU": local time and its offset from UTC in minutes.
    function readWmiTime(value) {
        var m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(
            text(value));
        var local, offset;
        if (!m) {
            throw new Error("unreadable WMI time: " + text(value));
        }
        local = Date.UTC(parseInt(m[1], 10), parseInt(m[2], 10) - 1, parseInt(m[3], 10),
            parseInt(m[4], 10), parseInt(m[5], 10), parseInt(m[6], 10),
            Math.floor(parseInt(m[7], 10) / 1000));
        offset = parseInt(m[9], 10) * (m[8] === "-" ? -1 : 1);
        return local - offset * 60000;
    }

    // The request's ISO time ("2004-01-01T00:00:00Z"); no offset means UTC.
    function readIsoTime(value) {
        var m = new RegExp("^(\\d{4})-(\\d{2})-(\\d{2})" +
            "(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d+))?)?)?(Z|[+-]\\d{2}:?\\d{2})?$").exec(
            trimSpace(value));
        var moment, zone;
        if (!m) {
            throw new Error("unreadable time: " + value);
        }
        moment = Date.UTC(parseInt(m[1], 10), parseInt(m[2], 10) - 1, parseInt(m[3], 10),
            parseInt(m[4] || "0", 10), parseInt(m[5] || "0", 10), parseInt(m[6] || "0", 10),
            m[7] ? Math.floor(parseFloat("0." + m[7]) * 1000) : 0);
        zone = m[8] || "Z";
        if (zone !== "Z") {
            zone = zone.replace(":", "");
            moment -= (zone.charAt(0) === "-" ? -1 : 1) *
                (parseInt(zone.substring(1, 3), 10) * 60 + parseInt(zone.substring(3, 5), 10)) *
                60000;
        }
        return moment;
    }

    // --- facts -----------------------------------------------------------------------------------
    function architecture() {
        var arch = envVar("PROCESSOR_ARCHITEW6432") || envVar("PROCESSOR_ARCHITECTURE");
        arch = arch.toUpperCase();
        if (arch === "AMD64") {
            return "x64";
        }
        if (arch === "IA64") {
            return "ia64";
        }
        if (arch === "ALPHA") {
            return "alpha";
        }
        return "x86";
    }

    function hostName() {
        try {
            return String(new ActiveXObject("WScript.Network").ComputerName);
        } catch (failure) {
            return envVar("COMPUTERNAME");
        }
    }

    function timeZoneName() {
        var zones, name;
        try {
            zones = wmiInstances("Win32_TimeZone");
            if (zones.length > 0) {
                return text(zones[0].StandardName);
            }
        } catch (failure) {
            name = regValue(HKLM +
                "SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation\\StandardName");
            if (name === null) {
                throw failure;
            }
            return text(name);
        }
        return "";
    }

    function powerShellVersion() {
        var engines = ["3", "1"];
        var i, value;
        for (i = 0; i < engines.length; i++) {
            value = regValue(HKLM + "SOFTWARE\\Microsoft\\PowerShell\\" + engines[i] +
                "\\PowerShellEngine\\PowerShellVersion");
            if (value !== null && text(value) !== "") {
                return text(value);
            }
        }
        return null;
    }

    function writeOsFacts() {
        var os, version, psVersion;
        writeFact("engine", "wsh");
        writeFact("hostname", hostName());
        psVersion = powerShellVersion();
        if (psVersion !== null) {
            writeFact("ps_version", psVersion);
        }
        writeFact("time_utc", utcText(new Date().getTime()));
        try {
            writeFact("timezone", timeZoneName());
        } catch (failure) {
            writeError("facts", "timezone", failure);
        }
        writeFact("os_arch", architecture());
        try {
            os = wmiInstances("Win32_OperatingSystem")[0];
            if (!os) {
                throw new Error("Win32_OperatingSystem has no instance");
            }
            writeFact("os_caption", trimSpace(text(os.Caption)));
            writeFact("os_version", text(os.Version));
            writeFact("os_build", os.BuildNumber);
            writeFact("os_sp", os.ServicePackMajorVersion);
            osMajor = parseInt(text(os.Version).split(".")[0], 10);
        } catch (failure) {
            writeError("facts", "os", failure);
            version = regValue(HKLM +
                "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion");
            osMajor = parseInt(text(version).split(".")[0], 10);
        }
        if (isNaN(osMajor)) {
            osMajor = 5;
        }
    }

    // PendingFileRenameOperations (REG_MULTI_SZ) holds pairs (source, destination) in the
    // order MoveFileEx(MOVEFILE_DELAY_UNTIL_REBOOT) registered them: a rename stores
    // "\??\source", "\??\destination" ("!\??\destination" with MOVEFILE_REPLACE_EXISTING); a
    // delete stores "\??\source" and an EMPTY destination (Microsoft Learn, MoveFileExA,
    // Remarks; Sysinternals PendMoves shows "Target: DELETE"). An empty string is not valid
    // REG_MULTI_SZ ("it is not possible to include a zero-length string in the sequence",
    // Microsoft Learn, Registry Value Types), so readers differ: the .NET Framework 4 reference
    // source (RegistryKey.InternalGetValue) keeps inner empty strings; whether RegRead (WSH 5.x)
    // and .NET 2.0's RegistryKey.GetValue keep them is unverified, so a reader that DROPS them
    // is assumed: pairing two by two would then shift every pair after a delete. A reader that
    // stops at the first empty string (seen in third-party readers: GiovanniDicanio/WinReg#39,
    // mhammond/pywin32#817) would lose the rest: unverified for RegRead, not handled.
    // The destinations (files a reboot replaces), paired whether or not empty entries survived.
    function renameTargets(entries) {
        var targets = [];
        var keepsEmpty = false;
        var i, next;
        for (i = 0; i < entries.length; i++) {
            if (text(entries[i]) === "") {
                keepsEmpty = true;
            }
        }
        i = 0;
        while (i + 1 < entries.length) {
            next = text(entries[i + 1]);
            if (next === "") {
                i += 2; // entries[i] is deleted at restart
            } else if (next.charAt(0) === "!") {
                targets.push(next); // replaces an existing file
                i += 2;
            } else if (!keepsEmpty && i + 2 < entries.length &&
                    text(entries[i + 2]).charAt(0) === "!") {
                i += 1; // entries[i] was a delete whose empty entry the reader dropped
            } else {
                // A destination, or (empty entries dropped) the next source: either way a path
                // that changes at restart; counted, and read again as a source when unsure.
                targets.push(next);
                i += keepsEmpty ? 2 : 1;
            }
        }
        return targets;
    }

    function writePendingReboot() {
        var pending = false;
        var renames, targets, target, i;
        try {
            renames = safeArray(regValue(HKLM + "SYSTEM\\CurrentControlSet\\Control\\" +
                "Session Manager\\PendingFileRenameOperations"));
            if (renames.length > 0) {
                pending = true;
            }
            targets = renameTargets(renames);
            for (i = 0; i < targets.length; i++) {
                target = text(targets[i]).replace(/^!+/, "").split("\\??\\").join("");
                if (target.length > 0) {
                    writeRecord("pending_rename", ["path", target]);
                }
            }
            for (i = 0; i < REBOOT_KEYS.length; i++) {
                if (regKeyExists(REBOOT_KEYS[i])) {
                    pending = true;
                }
            }
        } catch (failure) {
            writeError("facts", "pending_reboot", failure);
        }
        writeFact("pending_reboot", pending ? "1" : "0");
    }

    // "6.5.7638.1" -> the four numeric parts, missing parts 0; null when it starts with no number.
    function numericVersion(versionText) {
        var m = /^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?/.exec(versionText);
        var parts = [];
        var i;
        if (!m) {
            return null;
        }
        for (i = 1; i <= 4; i++) {
            parts.push(String(parseInt(m[i] || "0", 10)));
        }
        return parts.join(".");
    }

    function joinPath(root, relative) {
        return root.replace(/\\+$/, "") + "\\" + relative.replace(/^\\+/, "");
    }

    // 5.5 to 2003: setup's Services value, else a service's image path: [root, key or null].
    function findLegacyExchangeRoot() {
        var root = regValue(EXCHANGE_SETUP + "Services");
        var i, service, image, bin;
        if (root !== null && text(root) !== "") {
            return [text(root).replace(/\\+$/, ""), LEGACY_SETUP_KEY];
        }
        for (i = 0; i < EXCHANGE_SERVICES.length; i++) {
            service = services["s:" + EXCHANGE_SERVICES[i]];
            if (service) {
                image = service.pathName.replace(/^"+/, "").replace(/"+$/, "");
                bin = String(image.toLowerCase()).lastIndexOf("\\bin\\");
                if (bin > 0) {
                    return [image.substring(0, bin), null];
                }
            }
        }
        return null;
    }

    // 2007 and later: {setup, root} of the first setup key that names the folder, or null.
    function findExchangeSetup() {
        var i, root;
        for (i = 0; i < EXCHANGE_SETUPS.length; i++) {
            root = registryCall("GetStringValue", EXCHANGE_SETUPS[i].key, "MsiInstallPath",
                "sValue");
            if (root !== null && text(root) !== "") {
                return {setup: EXCHANGE_SETUPS[i], root: text(root).replace(/\\+$/, "")};
            }
        }
        return null;
    }

    // The build from the first of `names` (relative to the root) that exists: Bin\ExSetup.exe
    // from 2007 on ("Get-Command Exsetup.exe | ForEach {$_.FileVersionInfo}", Microsoft Learn,
    // "Exchange Server build numbers and release dates"), bin\store.exe before (2013 and
    // later have no store.exe).
    function exchangeBuild(root, names) {
        var i, path;
        for (i = 0; i < names.length; i++) {
            path = joinPath(root, names[i]);
            if (fso.FileExists(path)) {
                return numericVersion(text(fso.GetFileVersion(path)));
            }
        }
        return null;
    }

    function setExchangeVersion(build) {
        exchangeVersion = build === null ? "" : build.split(".").slice(0, 2).join(".");
    }

    function exchangeRoles(parent) {
        var present = {};
        var found = [];
        var names = safeArray(registryCall("EnumKey", parent, null, "sNames"));
        var roles = {};
        var i;
        for (i = 0; i < names.length; i++) {
            present["k:" + text(names[i]).toLowerCase()] = true;
        }
        for (i = 0; i < EXCHANGE_ROLE_KEYS.length; i++) {
            if (present["k:" + EXCHANGE_ROLE_KEYS[i][0].toLowerCase()]) {
                roles["r:" + EXCHANGE_ROLE_KEYS[i][1]] = true;
            }
        }
        for (i = 0; i < EXCHANGE_ROLE_ORDER.length; i++) {
            if (roles["r:" + EXCHANGE_ROLE_ORDER[i]]) {
                found.push(EXCHANGE_ROLE_ORDER[i]);
            }
        }
        return found.join(",");
    }

    function writeModernExchangeFacts(found) {
        var names = ["Bin\\ExSetup.exe"];
        var build;
        exchangeRoot = found.root;
        exchangeVersion = "";
        writeFact("exchange_root", found.root);
        writeFact("exchange_setup_key", "HKLM\\" + found.setup.key);
        try {
            if (found.setup.store) {
                names.push("Bin\\store.exe");
            }
            build = exchangeBuild(found.root, names);
            writeFact("exchange_build", build);
            setExchangeVersion(build);
        } catch (failure) {
            writeError("facts", "exchange_build", failure);
        }
        try {
            writeFact("exchange_roles", exchangeRoles(found.setup.roles));
        } catch (failure) {
            writeError("facts", "exchange_roles", failure);
        }
    }

    function writeExchangeFacts() {
        var found = null;
        var legacy, sp, build;
        try {
            found = findExchangeSetup();
        } catch (failure) {
            writeError("facts", "exchange_registry", failure);
        }
        if (found !== null) {
            writeModernExchangeFacts(found);
            return;
        }
        try {
            legacy = findLegacyExchangeRoot();
            if (legacy === null) {
                return;
            }
            exchangeRoot = legacy[0];
            writeFact("exchange_root", exchangeRoot);
            if (legacy[1] !== null) {
                writeFact("exchange_setup_key", legacy[1]);
            }
            build = exchangeBuild(exchangeRoot, ["bin\\store.exe"]);
            writeFact("exchange_build", build);
            setExchangeVersion(build);
            sp = regValue(EXCHANGE_SETUP + "ServicePackNumber");
            if (sp !== null) {
                writeFact("exchange_sp", text(sp));
            }
        } catch (failure) {
            writeError("facts", "exchange", failure);
        }
    }

    // --- services and components -----------------------------------------------------------------
    function readServices() {
        var found, i;
        try {
            found = wmiInstances("Win32_Service");
            for (i = 0; i < found.length; i++) {
                services["s:" + text(found[i].Name).toLowerCase()] = {
                    name: text(found[i].Name),
                    state: text(found[i].State),
                    startMode: text(found[i].StartMode),
                    pathName: text(found[i].PathName)
                };
            }
        } catch (failure) {
            writeError("services", "*", failure);
        }
    }

    function writeServices(names) {
        var i, name, service;
        for (i = 0; i < names.length; i++) {
            name = text(names[i]);
            service = services["s:" + name.toLowerCase()];
            if (service) {
                writeRecord("service", ["name", name, "found", "1", "state", service.state,
                    "start_mode", service.startMode]);
            } else {
                writeRecord("service", ["name", name, "found", "0"]);
            }
        }
    }

    function writeComponents(components) {
        var features = null;
        var i, k, component, value, installed, found, id;
        for (i = 0; i < components.length; i++) {
            component = components[i];
            if (!(component instanceof JsonObject)) {
                continue;
            }
            try {
                if (osMajor < 6) {
                    value = regValue(OC_MANAGER + text(member(component, "oc")));
                    installed = value !== null && Number(value) === 1 ? "1" : "0";
                    writeRecord("component", ["name", member(component, "name"),
                        "installed", installed, "mechanism", "oc_manager"]);
                } else {
                    // Win32_ServerFeature.Name is the localised display name; ID (uint32, Key)
                    // is the same in every language: "Win32_ServerFeature class", ID property.
                    if (features === null) {
                        found = wmiInstances("Win32_ServerFeature");
                        features = {};
                        for (k = 0; k < found.length; k++) {
                            features["f:" + String(Number(found[k].ID))] = true;
                        }
                    }
                    id = Number(member(component, "feature_id"));
                    installed = id > 0 && features["f:" + String(id)] ? "1" : "0";
                    writeRecord("component", ["name", member(component, "name"),
                        "installed", installed, "mechanism", "server_feature"]);
                }
            } catch (failure) {
                writeError("component", member(component, "name"), failure);
            }
        }
    }

    // --- files -----------------------------------------------------------------------------------
    function resolvePath(file) {
        var root = text(member(file, "root"));
        var path = text(member(file, "path"));
        if (root === "exchange") {
            if (exchangeRoot === null) {
                throw new Error("the Exchange install folder was not found");
            }
            return joinPath(exchangeRoot, path);
        }
        if (root === "system32") {
            return joinPath(String(fso.GetSpecialFolder(1).Path), path);
        }
        if (root === "windows") {
            return joinPath(envVar("SystemRoot") || String(fso.GetSpecialFolder(0).Path), path);
        }
        return path;
    }

    function writeFiles(files) {
        var i, file, path, item, versionText, numeric;
        for (i = 0; i < files.length; i++) {
            file = files[i];
            if (!(file instanceof JsonObject)) {
                continue;
            }
            try {
                path = resolvePath(file);
                if (!fso.FileExists(path)) {
                    writeRecord("file", ["id", member(file, "id"), "path", path, "exists", "0"]);
                    continue;
                }
                item = fso.GetFile(path);
                // GetFileVersion: "" when the file has no version resource.
                versionText = trimSpace(text(fso.GetFileVersion(path)));
                numeric = versionText === "" ? null : numericVersion(versionText);
                writeRecord("file", ["id", member(file, "id"), "path", path, "exists", "1",
                    "version", numeric, "version_text", versionText === "" ? null : versionText,
                    "size", item.Size,
                    // DateLastModified is local time; the Date it makes is the true moment.
                    "modified", utcText(new Date(item.DateLastModified).getTime())]);
            } catch (failure) {
                writeError("file", member(file, "id"), failure);
            }
        }
    }

    // --- events ----------------------------------------------------------------------------------
    function hexText(data) {
        var bytes = safeArray(data);
        var out = [];
        var i, b;
        for (i = 0; i < bytes.length; i++) {
            b = Number(bytes[i]) & 0xFF;
            out.push((b < 16 ? "0" : "") + b.toString(16));
        }
        return out.join("");
    }

    function eventTypeName(type, eventType) {
        var name = text(type).toLowerCase();
        if (name === "error" || name === "warning" || name === "information") {
            return name.charAt(0).toUpperCase() + name.substring(1);
        }
        if (/success/.test(name)) {
            return "SuccessAudit";
        }
        if (/fail/.test(name)) {
            return "FailureAudit";
        }
        // EventType: 1 error, 2 warning, 3 information, 4 audit success, 5 audit failure.
        return ["Information", "Error", "Warning", "Information", "SuccessAudit",
            "FailureAudit"][Number(eventType)] || "Information";
    }

    function contains(items, value) {
        var i;
        for (i = 0; i < items.length; i++) {
            if (items[i] === value) {
                return true;
            }
        }
        return false;
    }

    function newerFirst(a, b) {
        if (a.time !== b.time) {
            return b.time - a.time;
        }
        return b.record - a.record;
    }

    // An event filter applies to this host unless it names Exchange versions ("6.5", its
    // playbook's) and this host's Exchange is known to be none of them or is absent; lab
    // answers/collect.py `applies` decides alike.
    function applies(query) {
        var versions = list(member(query, "exchange"));
        var k;
        if (versions.length === 0 || exchangeVersion === "") {
            return true;
        }
        for (k = 0; k < versions.length; k++) {
            if (text(versions[k]) === exchangeVersion) {
                return true;
            }
        }
        return false;
    }

    function readFilter(query) {
        var filter = {query: query, id: member(query, "id"), sources: [], ids: []};
        var sources = list(member(query, "sources"));
        var ids = list(member(query, "ids"));
        var limit = member(query, "max");
        var k, sinceText;
        filter.log = text(member(query, "log"));
        if (!LOG_NAME.test(filter.log)) {
            throw new Error("event log name not allowed: " + filter.log);
        }
        sinceText = text(member(query, "since"));
        filter.since = sinceText === "" ? null : readIsoTime(sinceText);
        for (k = 0; k < sources.length; k++) {
            filter.sources.push(text(sources[k]).toLowerCase());
        }
        for (k = 0; k < ids.length; k++) {
            filter.ids.push(Math.floor(Number(ids[k])));
            if (!(filter.ids[k] >= 0 && filter.ids[k] <= 65535)) {
                throw new Error("event id out of range: " + text(ids[k]));
            }
        }
        limit = limit === null ? 20 : Math.floor(Number(limit));
        filter.limit = limit > 0 ? limit : 0;
        filter.total = 0;
        filter.first = null;
        filter.last = null;
        filter.newest = [];
        return filter;
    }

    function matches(filter, source, code) {
        return (filter.sources.length === 0 || contains(filter.sources, source)) &&
            (filter.ids.length === 0 || contains(filter.ids, code));
    }

    // One WQL query for one log: the fields used, the log, the earliest time bound and the
    // union of the filters' event codes, so the provider hands back only candidates. Source
    // names stay out of the WQL (whether "=" ignores case there is unverified; the script
    // compares them without case). Win32_NTLogEvent (Microsoft Learn): EventCode is "the
    // lower 16-bits of the EventIdentifier property ... to match the value displayed in the
    // Windows Event Viewer"; TimeGenerated is a CIM datetime "yyyymmddHHMMSS.mmmmmmsUUU"
    // ("CIM_DATETIME", "WMI date and time format"). "Querying with WQL": too many AND/OR
    // keywords end in WBEM_E_QUOTA_VIOLATION, the limit depending on the query (the figure is
    // unverified: past MAX_WQL_KEYWORDS codes are matched in the script).
    function logQuery(log, filters) {
        var since = null;
        var bounded = true;
        var codes = [];
        var k, n, wql;
        for (k = 0; k < filters.length; k++) {
            if (filters[k].since === null) {
                bounded = false;
            } else if (since === null || filters[k].since < since) {
                since = filters[k].since;
            }
            if (codes !== null && filters[k].ids.length === 0) {
                codes = null;
            }
            for (n = 0; codes !== null && n < filters[k].ids.length; n++) {
                if (!contains(codes, filters[k].ids[n])) {
                    codes.push(filters[k].ids[n]);
                }
            }
        }
        wql = "SELECT " + EVENT_FIELDS.join(", ") + " FROM Win32_NTLogEvent WHERE Logfile = '" +
            log + "'";
        if (bounded && since !== null) {
            wql += " AND TimeGenerated >= '" + wmiTimeText(since) + "'";
        }
        if (codes !== null && codes.length > 0 && codes.length <= MAX_WQL_KEYWORDS) {
            for (k = 0; k < codes.length; k++) {
                codes[k] = "EventCode = " + codes[k];
            }
            wql += " AND (" + codes.join(" OR ") + ")";
        }
        return wql;
    }

    // Keep the `limit` newest samples of a filter; their text is read only for those.
    function keepSample(filter, entry, time, record) {
        var row = {time: time, record: record};
        var k;
        filter.total++;
        if (filter.first === null || time < filter.first) {
            filter.first = time;
        }
        if (filter.last === null || time > filter.last) {
            filter.last = time;
        }
        if (filter.limit === 0 || (filter.newest.length >= filter.limit &&
                newerFirst(row, filter.newest[filter.newest.length - 1]) > 0)) {
            return;
        }
        row.type = eventTypeName(entry.Type, entry.EventType);
        row.source = text(entry.SourceName);
        row.eventId = Number(entry.EventCode);
        row.message = text(entry.Message);
        row.data = hexText(entry.Data);
        for (k = filter.newest.length; k > 0 && newerFirst(filter.newest[k - 1], row) > 0; k--) {
            filter.newest[k] = filter.newest[k - 1];
        }
        filter.newest[k] = row;
        if (filter.newest.length > filter.limit) {
            filter.newest.length = filter.limit;
        }
    }

    // One record whose properties cannot be read (a WMI instance that throws, a time that does
    // not parse) costs that record, not the log: counted in `lost`, as collect.ps1 counts the
    // records Get-WinEvent could not read or format.
    function readLog(log, filters, lost) {
        var items = new Enumerator(wmi().ExecQuery(logQuery(log, filters), "WQL",
            WMI_FORWARD_ONLY));
        var entry, source, code, time, record, k;
        for (; !items.atEnd(); items.moveNext()) {
            try {
                entry = items.item();
                source = text(entry.SourceName).toLowerCase();
                code = Number(entry.EventCode);
                time = null;
                for (k = 0; k < filters.length; k++) {
                    if (!matches(filters[k], source, code)) {
                        continue;
                    }
                    if (time === null) {
                        time = readWmiTime(entry.TimeGenerated);
                        record = Number(entry.RecordNumber);
                    }
                    if (filters[k].since === null || time >= filters[k].since) {
                        keepSample(filters[k], entry, time, record);
                    }
                }
            } catch (failure) {
                lost.count++;
                if (lost.first === null) {
                    lost.first = failure;
                }
            }
        }
    }

    function writeFilter(filter) {
        var summary = ["id", filter.id, "total", filter.total];
        var k, row;
        if (filter.first !== null) {
            summary.push("first", utcText(filter.first), "last", utcText(filter.last));
        }
        writeRecord("events", summary);
        for (k = 0; k < filter.newest.length; k++) {
            row = filter.newest[k];
            writeRecord("event", ["filter", filter.id, "time", utcText(row.time),
                "type", row.type, "source", row.source, "event_id", row.eventId,
                "message", row.message, "data", row.data, "record", row.record]);
        }
    }

    // One pass per log for the filters that apply here, then the records in request order.
    function writeEvents(queries) {
        var results = [];
        var logs = {};
        var order = [];
        var i, query, filter, key, lost;
        for (i = 0; i < queries.length; i++) {
            query = queries[i];
            if (!(query instanceof JsonObject) || !applies(query)) {
                continue;
            }
            try {
                filter = readFilter(query);
                key = "l:" + filter.log.toLowerCase();
                if (!logs[key]) {
                    logs[key] = {log: filter.log, filters: [], failure: null};
                    order.push(key);
                }
                logs[key].filters.push(filter);
                results.push({item: filter, log: logs[key]});
            } catch (failure) {
                results.push({id: member(query, "id"), failure: failure});
            }
        }
        for (i = 0; i < order.length; i++) {
            lost = {count: 0, first: null};
            try {
                readLog(logs[order[i]].log, logs[order[i]].filters, lost);
            } catch (failure) {
                logs[order[i]].failure = failure;
            }
            if (lost.count > 0) {
                writeRecord("error", ["scope", "event_record", "item", logs[order[i]].log,
                    "message", lost.count + " record(s) could not be read; the first: " +
                    errorText(lost.first)]);
            }
        }
        for (i = 0; i < results.length; i++) {
            if (results[i].failure) {
                writeError("events", results[i].id, results[i].failure);
            } else if (results[i].log.failure) {
                writeError("events", results[i].item.id, results[i].log.failure);
            } else {
                writeFilter(results[i].item);
            }
        }
    }

    // --- main ------------------------------------------------------------------------------------
    var request;
    writeLine("REMEDIATE-OUTPUT 1 collect");
    try {
        if (typeof REMEDIATE_ARGS !== "string") {
            throw new Error("arguments: REMEDIATE_ARGS is not set");
        }
        request = readArguments(REMEDIATE_ARGS);
        shell = new ActiveXObject("WScript.Shell");
        fso = new ActiveXObject("Scripting.FileSystemObject");
        writeOsFacts();
        writePendingReboot();
        readServices();
        writeExchangeFacts();
        writeServices(list(member(request, "services")));
        writeComponents(list(member(request, "components")));
        writeFiles(list(member(request, "files")));
        writeEvents(list(member(request, "events")));
    } catch (failure) {
        writeError("script", "collect", failure);
    }
    writeLine("REMEDIATE-END " + recordCount);
})();
