// A fake Windows Script Host for running remediate's JScript under node.
//
//   node wsh_host.js HOST.json BOOTSTRAP < script
//
// HOST.json describes the host (environment, registry, files, WMI instances; see
// tests/test_collect_js.py). The bootstrap (the transport's `eval(WScript.StdIn.ReadAll())`)
// runs in a fresh context whose globals are the fakes: WScript, ActiveXObject, GetObject,
// Enumerator and VBArray. What the script writes to WScript.StdOut goes to stdout; the WQL
// queries it ran (and, per event log query, its log, time bound, fields and rows scanned and
// returned) go to stderr as one JSON line. The fakes are strict: an unknown ProgID, WMI
// class, WQL shape or property name throws, as COM would.
//
// Programs (HOST.json "programs": path -> {stdout, stderr: characters written, exit_code}) run
// under WScript.Shell.Exec with pipes of PIPE_CAPACITY characters, as anonymous pipes have a
// finite buffer: a child that writes more than that blocks until the script reads, and a read
// that could only return once the child writes to the other, full, pipe is a deadlock (thrown).
// cmd.exe /D /S /C "LINE" is understood as far as the step script uses it: ^ escapes outside
// quotes, the line ending in ">NUL 2>&1". WScript.Sleep advances a virtual clock. A missing
// program (not in "programs") fails as CreateProcess does; under cmd.exe it exits 9009.
// Win32_OperatingSystem.Win32Shutdown returns 0 only when the moniker enabled the Shutdown
// privilege (ERROR_PRIVILEGE_NOT_HELD 1314 otherwise: stricter than documented).
"use strict";

const fs = require("fs");
const vm = require("vm");

const host = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const bootstrap = process.argv[3];
const script = fs.readFileSync(0, "utf8");
const broken = new Set(host.broken || []);
const queries = [];

function comError(message, number) {
  const error = new Error(message);
  error.description = message;
  error.number = number;
  return error;
}

function failIfBroken(name) {
  if (broken.has(name)) {
    throw comError(`${name} is broken on this host`, -2147467259);
  }
}

// A SAFEARRAY as JScript receives it: only `new VBArray(x)` can read it.
class SafeArray {
  constructor(items) {
    this.items = items;
  }
}

function VBArray(value) {
  if (!(value instanceof SafeArray)) {
    throw new TypeError("VBArray expected");
  }
  const items = value.items.slice();
  this.toArray = () => items.slice();
}

// A COM object: reading a property it does not have throws, as IDispatch does.
function comObject(properties, kind) {
  return new Proxy(properties, {
    get(target, name) {
      if (typeof name === "symbol") {
        return undefined;
      }
      if (!Object.prototype.hasOwnProperty.call(target, name)) {
        throw comError(`${kind} has no property ${String(name)}`, -2146827850);
      }
      return target[name];
    },
  });
}

class Collection {
  constructor(items, forwardOnly) {
    this.items = items;
    this.forwardOnly = forwardOnly;
    this.enumerated = false;
  }
}

function Enumerator(collection) {
  if (!(collection instanceof Collection)) {
    throw new TypeError("Enumerator expects a collection");
  }
  if (collection.forwardOnly && collection.enumerated) {
    throw comError("a forward-only collection can be enumerated once", -2147217346);
  }
  collection.enumerated = true;
  let at = 0;
  this.atEnd = () => at >= collection.items.length;
  this.moveNext = () => {
    at += 1;
  };
  this.item = () => (at < collection.items.length ? collection.items[at] : undefined);
}

// --- registry ---------------------------------------------------------------------------------
// HOST.json "registry" holds values by their physical path (a 64-bit Windows keeps the 32-bit
// view of HKLM\SOFTWARE under SOFTWARE\Wow6432Node), "registry_keys" keys without values.
// Views, stricter than Windows where unsure: on 64-bit Windows a 32-bit process (env
// PROCESSOR_ARCHITEW6432 set) reads HKLM\SOFTWARE through SOFTWARE\Wow6432Node, every subkey
// of it redirected ("Registry Redirector", Microsoft Learn; Windows shares a few subkeys,
// modelled as not shared). StdRegProv answers in the caller's view unless the context of the
// call (ExecMethod_'s objWbemNamedValueSet) carries __ProviderArchitecture 32 or 64;
// __RequiredArchitecture true with 64 on 32-bit Windows fails with 0x80041013
// ("Requesting WMI Data on a 64-bit Platform", Microsoft Learn). A context given only to
// ConnectServer or Get changes nothing here.
const HIVES = { HKLM: "HKEY_LOCAL_MACHINE", HKCU: "HKEY_CURRENT_USER" };
const environment = host.env || {};
const OS_BITS = /64/.test(environment.PROCESSOR_ARCHITEW6432 || environment.PROCESSOR_ARCHITECTURE || "")
  ? 64
  : 32;
const PROCESS_BITS = OS_BITS === 64 && !environment.PROCESSOR_ARCHITEW6432 ? 64 : 32;
const SOFTWARE = "hkey_local_machine\\software\\";
const WOW64_NODE = `${SOFTWARE}wow6432node`;

function registryPath(path) {
  const [hive, ...rest] = String(path).replace(/\\+$/, "").split("\\");
  return [HIVES[hive.toUpperCase()] || hive.toUpperCase(), ...rest].join("\\").toLowerCase();
}

// A path (lower case, full) as a process of `bits` bits reaches it.
function inView(path, bits) {
  if (OS_BITS === 64 && bits === 32 && path.startsWith(SOFTWARE)) {
    if (path !== WOW64_NODE && !path.startsWith(`${WOW64_NODE}\\`)) {
      return `${WOW64_NODE}\\${path.slice(SOFTWARE.length)}`;
    }
  }
  return path;
}

const registry = new Map();
const registryKeys = new Map(); // lower-case path -> the key's name as written
for (const [path, value] of Object.entries(host.registry || {})) {
  registry.set(registryPath(path), value);
}
function addKeyWithParents(written) {
  const parts = written.split("\\");
  for (let n = 1; n <= parts.length; n += 1) {
    const key = registryPath(parts.slice(0, n).join("\\"));
    if (!registryKeys.has(key)) {
      registryKeys.set(key, parts[n - 1]);
    }
  }
}
for (const path of Object.keys(host.registry || {})) {
  addKeyWithParents(path.split("\\").slice(0, -1).join("\\"));
}
for (const key of host.registry_keys || []) {
  addKeyWithParents(key);
}

function regRead(path) {
  failIfBroken("RegRead");
  const entry = registry.get(inView(registryPath(path), PROCESS_BITS));
  if (entry === undefined) {
    throw comError(`Unable to open registry key "${path}" for reading.`, -2147024894);
  }
  switch (entry.type) {
    case "REG_SZ":
      return String(entry.data);
    case "REG_DWORD":
      return Number(entry.data);
    case "REG_MULTI_SZ":
      // A VBArray of strings (Microsoft Learn, RegRead Method). Whether RegRead keeps the empty
      // strings of a REG_MULTI_SZ (a delete in PendingFileRenameOperations) is unverified, and
      // an empty string is not valid REG_MULTI_SZ (Registry Value Types): drop them, the
      // stricter reader, unless the host says its reader keeps them (as .NET 4's does).
      return new SafeArray(
        host.multi_sz_keeps_empty ? entry.data : entry.data.filter((item) => item !== ""),
      );
    case "REG_BINARY":
      return new SafeArray(entry.data);
    default:
      throw new Error(`fake registry: unknown type ${entry.type}`);
  }
}

// SWbemNamedValueSet: Add(name, value) and Item(name).Value.
function namedValueSet() {
  const values = new Map();
  return strictObject(
    {
      Add(name, value) {
        values.set(String(name).toLowerCase(), value);
        return comObject({ Name: String(name), Value: value }, "SWbemNamedValue");
      },
      Item(name) {
        if (!values.has(String(name).toLowerCase())) {
          throw comError(`fake SWbemNamedValueSet: no ${name}`, -2147217406);
        }
        return comObject({ Name: String(name), Value: values.get(String(name).toLowerCase()) }, "SWbemNamedValue");
      },
      lookup_(name) {
        return values.get(String(name).toLowerCase());
      },
    },
    "SWbemNamedValueSet",
  );
}

// The view a StdRegProv call reads: the caller's, or the one its context asks for.
function providerView(context) {
  if (context === undefined || context === null) {
    return PROCESS_BITS;
  }
  const wanted = Number(context.lookup_("__ProviderArchitecture"));
  const required = context.lookup_("__RequiredArchitecture") === true;
  if (wanted !== 32 && wanted !== 64) {
    return PROCESS_BITS;
  }
  if (wanted === 64 && OS_BITS === 32) {
    if (required) {
      throw comError("Provider load failure", -2147217389); // 0x80041013
    }
    return 32;
  }
  return wanted;
}

const ERROR_FILE_NOT_FOUND = 2;
const WBEM_E_TYPE_MISMATCH = 2147749893;
// StdRegProv's methods the scripts call: their input parameters and what they return.
const REGISTRY_METHODS = {
  EnumKey: ["hDefKey", "sSubKeyName"],
  GetStringValue: ["hDefKey", "sSubKeyName", "sValueName"],
  GetDWORDValue: ["hDefKey", "sSubKeyName", "sValueName"],
};

function registryMethod(name, input, bits) {
  if (Number(input.hDefKey) !== 0x80000002) {
    throw new Error(`fake StdRegProv: unexpected hive ${input.hDefKey}`);
  }
  const key = inView(registryPath(`HKEY_LOCAL_MACHINE\\${input.sSubKeyName}`), bits);
  if (!registryKeys.has(key)) {
    return comObject({ ReturnValue: ERROR_FILE_NOT_FOUND }, "__PARAMETERS");
  }
  if (name === "EnumKey") {
    const names = [...registryKeys.entries()]
      .filter(([path]) => path.startsWith(`${key}\\`) && !path.slice(key.length + 1).includes("\\"))
      .map(([, written]) => written);
    return comObject(
      { ReturnValue: 0, sNames: names.length ? new SafeArray(names) : null },
      "__PARAMETERS",
    );
  }
  const entry = registry.get(`${key}\\${String(input.sValueName).toLowerCase()}`);
  if (entry === undefined) {
    return comObject({ ReturnValue: ERROR_FILE_NOT_FOUND }, "__PARAMETERS");
  }
  if (name === "GetStringValue") {
    return entry.type === "REG_SZ"
      ? comObject({ ReturnValue: 0, sValue: String(entry.data) }, "__PARAMETERS")
      : comObject({ ReturnValue: WBEM_E_TYPE_MISMATCH }, "__PARAMETERS");
  }
  return entry.type === "REG_DWORD"
    ? comObject({ ReturnValue: 0, uValue: Number(entry.data) }, "__PARAMETERS")
    : comObject({ ReturnValue: WBEM_E_TYPE_MISMATCH }, "__PARAMETERS");
}

const registryCalls = [];

function stdRegProv() {
  failIfBroken("StdRegProv");
  const methodsByName = (name) => {
    const parameters = REGISTRY_METHODS[name];
    if (parameters === undefined) {
      throw comError(`fake StdRegProv: method ${name} is not modelled`, -2147217406);
    }
    return {
      InParameters: {
        SpawnInstance_: () => {
          const input = {};
          parameters.forEach((p) => {
            input[p] = null;
          });
          return strictObject(input, `__PARAMETERS of ${name}`);
        },
      },
    };
  };
  return {
    Methods_: { Item: methodsByName },
    ExecMethod_(name, input, flags, context) {
      const bits = providerView(context);
      registryCalls.push({ method: name, key: String(input.sSubKeyName), bits });
      return registryMethod(name, input, bits);
    },
  };
}

function wbemLocator() {
  return strictObject(
    {
      ConnectServer(server, namespace) {
        failIfBroken("WMI");
        if (String(server) !== "." || String(namespace).toLowerCase() !== "root\\default") {
          throw new Error(`fake SWbemLocator: unexpected ${server} ${namespace}`);
        }
        return strictObject(
          {
            Security_: strictObject({ ImpersonationLevel: 2 }, "SWbemSecurity"),
            Get(path) {
              if (String(path) !== "StdRegProv") {
                throw comError(`fake SWbemServices: no ${path}`, -2147217406);
              }
              return stdRegProv();
            },
          },
          "SWbemServices",
        );
      },
    },
    "SWbemLocator",
  );
}

// --- files ------------------------------------------------------------------------------------
function filePath(path) {
  return String(path).replace(/\//g, "\\").toLowerCase();
}

// A file may carry its bytes ("content_base64"): what ADODB.Stream reads and writes, and what
// File.Copy copies. The files that hold bytes at the end go to the log ("files"), so that a test
// can hand them to the next run (put_file chunks are separate scripts).
const files = new Map();
for (const file of host.files || []) {
  const entry = { ...file };
  if (typeof file.content_base64 === "string") {
    entry.bytes = Buffer.from(file.content_base64, "base64");
    entry.size = entry.bytes.length;
  }
  files.set(filePath(file.path), entry);
}

function fileBytes(path) {
  const file = files.get(filePath(path));
  if (file === undefined) {
    return undefined;
  }
  if (file.bytes === undefined) {
    throw new Error(`fake WSH: ${path} has no content_base64 to read`);
  }
  return file.bytes;
}

function writeFile(path, bytes) {
  files.set(filePath(path), {
    path: String(path),
    version: "",
    size: bytes.length,
    modified_ms: 0,
    bytes: Buffer.from(bytes),
  });
}

function fileOf(path) {
  const file = files.get(filePath(path));
  if (file === undefined) {
    throw comError("File not found", -2146828235);
  }
  return file;
}

const fileSystem = {
  FileExists: (path) => files.has(filePath(path)),
  GetFileVersion: (path) => fileOf(path).version,
  GetFile(path) {
    const file = fileOf(path);
    return comObject(
      {
        Path: file.path,
        Size: file.size,
        DateLastModified: new Date(file.modified_ms),
        // File.Copy(destination, overwrite): an existing destination without overwrite is
        // "File already exists" (FSO Copy method, VBScript run-time error 58).
        Copy(destination, overwrite) {
          if (files.has(filePath(destination)) && overwrite !== true) {
            throw comError("File already exists", -2146828230);
          }
          files.set(filePath(destination), { ...file, path: String(destination) });
        },
      },
      "File",
    );
  },
  DeleteFile(path, force) {
    if (!files.has(filePath(path))) {
      throw comError("File not found", -2146828235);
    }
    if (force !== true && files.get(filePath(path)).read_only) {
      throw comError("Permission denied", -2146828218);
    }
    files.delete(filePath(path));
  },
  GetSpecialFolder(which) {
    const path = host.special_folders[String(which)];
    if (path === undefined) {
      throw new Error(`fake FSO: no special folder ${which}`);
    }
    return comObject({ Path: path }, "Folder");
  },
};

// --- WMI --------------------------------------------------------------------------------------
// WQL as the scripts write it: SELECT <* | fields> FROM <class> [WHERE <condition>], the
// condition of comparisons (=, <>, <, <=, >, >=) joined by AND, OR and parentheses. The fake
// is stricter than Windows: on Win32_NTLogEvent it refuses SELECT * (name the fields used),
// instances carry only the selected properties, more than MAX_KEYWORDS AND/OR keywords are a
// quota violation (Windows: "the limit ... depends on how complex the query is"), and every
// query's cost is recorded: the rows of its log it scanned (those at or after a top-level
// TimeGenerated/TimeWritten bound, the whole log without one) and the rows it returned.
const WQL = /^SELECT (\*|\w+(?:, \w+)*) FROM (Win32_\w+)(?: WHERE (.+))?$/;
const MAX_KEYWORDS = 64;
const TIME_PROPERTIES = new Set(["TimeGenerated", "TimeWritten"]);
const reads = [];

function wmiMoment(text) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(text);
  if (!m) {
    throw new Error(`fake WMI: bad datetime ${text}`);
  }
  const local = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + +m[7] / 1000;
  return local - (m[8] === "-" ? -1 : 1) * +m[9] * 60000;
}

function wqlError(wql, why) {
  return comError(`fake WMI: ${why}: ${wql}`, -2147217385); // WBEM_E_INVALID_QUERY
}

function tokenize(wql, text) {
  const tokens = [];
  const pattern = /\s*(?:(\()|(\))|('[^'\\]*')|(-?\d+)|(<>|<=|>=|=|<|>)|([A-Za-z_]\w*))/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m || m[0].length === 0) {
      if (/^\s*$/.test(text.slice(at))) {
        break;
      }
      throw wqlError(wql, `cannot read the condition at ${JSON.stringify(text.slice(at))}`);
    }
    at = pattern.lastIndex;
    if (m[1] || m[2]) tokens.push({ kind: m[1] ? "(" : ")" });
    else if (m[3]) tokens.push({ kind: "value", value: m[3].slice(1, -1) });
    else if (m[4]) tokens.push({ kind: "value", value: Number(m[4]) });
    else if (m[5]) tokens.push({ kind: "op", value: m[5] });
    else {
      const word = m[6].toUpperCase();
      tokens.push(word === "AND" || word === "OR" ? { kind: word } : { kind: "name", value: m[6] });
    }
  }
  return tokens;
}

// A condition as a tree: {and|or: [...]} or {name, op, value}.
function parseCondition(wql, text) {
  const tokens = tokenize(wql, text);
  let at = 0;
  const keywords = tokens.filter((t) => t.kind === "AND" || t.kind === "OR").length;
  if (keywords > MAX_KEYWORDS) {
    throw comError(`fake WMI: ${keywords} AND/OR keywords: quota violation`, -2147217300);
  }
  function expect(kind) {
    const token = tokens[at];
    if (!token || token.kind !== kind) {
      throw wqlError(wql, `expected ${kind}`);
    }
    at += 1;
    return token;
  }
  function list(kind, next) {
    const items = [next()];
    while (tokens[at] && tokens[at].kind === kind) {
      at += 1;
      items.push(next());
    }
    return items.length === 1 ? items[0] : { [kind.toLowerCase()]: items };
  }
  function primary() {
    if (tokens[at] && tokens[at].kind === "(") {
      at += 1;
      const inner = list("OR", () => list("AND", primary));
      expect(")");
      return inner;
    }
    const name = expect("name").value;
    const op = expect("op").value;
    return { name, op, value: expect("value").value };
  }
  const tree = list("OR", () => list("AND", primary));
  if (at !== tokens.length) {
    throw wqlError(wql, "trailing text");
  }
  return tree;
}

function compare(row, test) {
  if (!Object.prototype.hasOwnProperty.call(row, test.name)) {
    throw comError(`fake WMI: no property ${test.name}`, -2147217406); // WBEM_E_INVALID_PROPERTY
  }
  let left = row[test.name];
  let right = test.value;
  if (TIME_PROPERTIES.has(test.name)) {
    left = wmiMoment(left);
    right = wmiMoment(right);
  } else if (test.name === "Logfile") {
    left = String(left).toLowerCase();
    right = String(right).toLowerCase();
  } else if (typeof right === "number") {
    left = Number(left);
  }
  switch (test.op) {
    case "=": return left === right;
    case "<>": return left !== right;
    case "<": return left < right;
    case "<=": return left <= right;
    case ">": return left > right;
    default: return left >= right;
  }
}

function holds(row, tree) {
  if (tree.and) return tree.and.every((t) => holds(row, t));
  if (tree.or) return tree.or.some((t) => holds(row, t));
  return compare(row, tree);
}

// The comparisons every row must pass (the top-level AND), to find the log and time bound.
function topLevel(tree) {
  if (tree === null) return [];
  return tree.and ? tree.and.filter((t) => t.name) : tree.name ? [tree] : [];
}

const shutdowns = [];

// A row with "_unreadable": true is an instance every property read of which fails (as a
// provider that cannot render one record would); the query still selects it.
function wmiInstance(className, properties, fields, privileges) {
  if (properties._unreadable === true) {
    return new Proxy(
      {},
      {
        get(target, name) {
          if (typeof name === "symbol") {
            return undefined;
          }
          throw comError(`${className}: this instance cannot be read`, -2147217406);
        },
      },
    );
  }
  const copy = {};
  for (const [name, value] of Object.entries(properties)) {
    if (name.startsWith("_")) {
      continue;
    }
    if (fields === null || fields.includes(name)) {
      copy[name] = Array.isArray(value) ? new SafeArray(value) : value;
    }
  }
  if (className === "Win32_OperatingSystem") {
    copy.Win32Shutdown = (flags) => {
      if (!privileges.has("shutdown")) {
        return 1314; // ERROR_PRIVILEGE_NOT_HELD
      }
      shutdowns.push(Number(flags));
      return 0;
    };
  }
  return comObject(copy, className);
}

function execQuery(privileges, wql, language, flags) {
  queries.push(wql);
  if (language !== "WQL") {
    throw comError("fake WMI: only WQL", -2147217385);
  }
  const m = WQL.exec(wql);
  if (!m) {
    throw wqlError(wql, "query not understood");
  }
  const className = m[2];
  const fields = m[1] === "*" ? null : m[1].split(", ");
  const tree = m[3] === undefined ? null : parseCondition(wql, m[3]);
  if (className === "Win32_NTLogEvent" && fields === null) {
    throw wqlError(wql, "SELECT * on Win32_NTLogEvent is refused here: name the fields read");
  }
  failIfBroken(className);
  const classes = host.wmi || {};
  if (!Object.prototype.hasOwnProperty.call(classes, className)) {
    throw comError(`Invalid class ${className}`, -2147217392);
  }
  const rows = classes[className];
  const items = rows.filter((row) => tree === null || holds(row, tree));
  if (className === "Win32_NTLogEvent") {
    const bounds = topLevel(tree);
    const log = bounds.find((t) => t.name === "Logfile" && t.op === "=");
    const since = bounds.find((t) => TIME_PROPERTIES.has(t.name) && t.op === ">=");
    const inLog = rows.filter(
      (row) => !log || String(row.Logfile).toLowerCase() === String(log.value).toLowerCase(),
    );
    const scanned = since ? inLog.filter((row) => compare(row, since)) : inLog;
    reads.push({
      log: log ? log.value : null,
      since: since ? since.value : null,
      fields,
      scanned: scanned.length,
      returned: items.length,
    });
  }
  return new Collection(
    items.map((p) => wmiInstance(className, p, fields, privileges)),
    (flags & 32) !== 0,
  );
}

function GetObject(moniker) {
  const text = String(moniker).toLowerCase();
  if (!text.startsWith("winmgmts:")) {
    throw comError(`fake GetObject: ${moniker}`, -2146827859);
  }
  failIfBroken("WMI");
  if (text.endsWith("\\root\\default:stdregprov")) {
    return stdRegProv();
  }
  if (text.endsWith("\\root\\cimv2")) {
    const wanted = /\{([^}]*)\}/.exec(text);
    const privileges = new Set();
    for (const m of (wanted ? wanted[1] : "").matchAll(/\(([^)]*)\)/g)) {
      m[1].split(",").forEach((p) => privileges.add(p.trim()));
    }
    return { ExecQuery: (...args) => execQuery(privileges, ...args) };
  }
  throw comError(`fake GetObject: unknown namespace ${moniker}`, -2147217394);
}

// --- programs ---------------------------------------------------------------------------------
const PIPE_CAPACITY = 4096;
const executed = [];
let clock = 0;

function firstWord(line) {
  const m = /^\s*(?:"([^"]*)"|(\S+))\s*(.*)$/s.exec(line);
  return m ? [m[1] === undefined ? m[2] : m[1], m[3]] : ["", ""];
}

function programOf(path) {
  const programs = host.programs || {};
  for (const [key, value] of Object.entries(programs)) {
    if (filePath(key) === filePath(path)) {
      return value;
    }
  }
  return undefined;
}

// cmd.exe /D /S /C "LINE >NUL 2>&1": the line with its ^ escapes removed, or a throw.
function cmdLine(rest) {
  const m = /^\/D \/S \/C "(.*)"$/s.exec(rest);
  if (!m) {
    throw new Error(`fake cmd.exe: unexpected switches: ${rest}`);
  }
  let out = "";
  let quoted = false;
  let at = 0;
  const line = m[1];
  for (; at < line.length; at += 1) {
    const c = line[at];
    if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === "^") {
      at += 1;
      out += line[at];
      continue;
    } else if (!quoted && "&|<>()".includes(c)) {
      break;
    } else if (c === "%" || c === "\r" || c === "\n") {
      throw new Error(`fake cmd.exe: ${JSON.stringify(c)} in the line would not stay data`);
    }
    out += c;
  }
  if (line.slice(at) !== ">NUL 2>&1" || !out.endsWith(" ")) {
    throw new Error(`fake cmd.exe: unexpected operators: ${line.slice(at)}`);
  }
  return out.slice(0, -1);
}

// A pipe of PIPE_CAPACITY characters between the child and the script.
class Pipe {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.buffered = 0;
  }

  available() {
    this.child.run();
    return this.buffered;
  }

  take(count) {
    while (this.available() === 0 && !this.child.closed(this)) {
      if (this.child.blocked()) {
        throw comError(`fake WSH: deadlock reading ${this.name}: the child is blocked`, -1);
      }
      this.child.run();
    }
    const n = Math.min(count, this.buffered);
    this.buffered -= n;
    return "x".repeat(n);
  }
}

class Child {
  constructor(spec) {
    this.left = { out: Number(spec.stdout || 0), err: Number(spec.stderr || 0) };
    this.exitCode = Number(spec.exit_code || 0);
    this.stdout = new Pipe("StdOut", this);
    this.stderr = new Pipe("StdErr", this);
    this.done = false;
    this.killed = false;
  }

  // Write what fits: first stdout, then stderr, as a chatty installer does.
  run() {
    for (const [key, pipe] of [["out", this.stdout], ["err", this.stderr]]) {
      const n = Math.min(this.left[key], PIPE_CAPACITY - pipe.buffered);
      this.left[key] -= n;
      pipe.buffered += n;
      if (this.left[key] > 0) {
        return;
      }
    }
    this.done = true;
  }

  blocked() {
    return !this.done && !this.killed;
  }

  closed() {
    return this.done || this.killed;
  }
}

function textStream(pipe) {
  return {
    Read: (n) => pipe.take(Number(n)),
    ReadLine: () => pipe.take(80),
    ReadAll: () => {
      let all = "";
      while (!pipe.child.closed() || pipe.buffered > 0) {
        all += pipe.take(PIPE_CAPACITY);
      }
      return all;
    },
    get AtEndOfStream() {
      if (pipe.available() > 0) {
        return false;
      }
      if (pipe.child.closed()) {
        return true;
      }
      throw comError(`fake WSH: deadlock: AtEndOfStream of ${pipe.name} waits for the child`, -1);
    },
  };
}

function exec(commandLine) {
  failIfBroken("Exec");
  const [program, rest] = firstWord(String(commandLine));
  let spec;
  if (/(^|\\)cmd\.exe$/i.test(program)) {
    const line = cmdLine(rest);
    const [inner] = firstWord(line);
    executed.push(line);
    // the child's streams go to NUL: it never blocks; a program cmd cannot find exits 9009
    spec = programOf(inner) || { exit_code: 9009 };
    spec = { exit_code: spec.exit_code, seconds: spec.seconds };
  } else {
    executed.push(String(commandLine));
    spec = programOf(program);
    if (spec === undefined) {
      throw comError("The system cannot find the file specified.", -2147024894);
    }
  }
  const child = new Child(spec);
  const started = clock;
  const ends = started + Number(spec.seconds || 0) * 1000;
  return {
    StdIn: { Close: () => undefined },
    StdOut: textStream(child.stdout),
    StdErr: textStream(child.stderr),
    get Status() {
      child.run();
      return child.killed || (child.done && clock >= ends) ? 1 : 0;
    },
    get ExitCode() {
      return child.killed ? 1 : child.exitCode;
    },
    Terminate: () => {
      child.killed = true;
    },
  };
}

// --- ActiveX ----------------------------------------------------------------------------------
function expand(text) {
  return String(text).replace(/%([^%]+)%/g, (whole, name) => {
    for (const [key, value] of Object.entries(host.env || {})) {
      if (key.toLowerCase() === name.toLowerCase()) {
        return value;
      }
    }
    return whole;
  });
}

// --- binary data: MSXML typed nodes, ADODB.Stream, .NET's SHA256Managed over COM ----------
// Sources: "nodeTypedValue Property", MSXML SDK (learn.microsoft.com/previous-versions/windows/
// desktop/ms762308(v=vs.85)): Null without content, bin.hex example; "SaveToFile Method" (ADO,
// learn.microsoft.com/previous-versions/ms808661(v=msdn.10)): adSaveCreateNotExist default,
// Position 0 after, an overwrite truncates; KB 317626 "Overloaded methods in a .NET component"
// (ComputeHash_2 naming). Unverified: the exact HRESULTs below, ADO's Null from Read at the end,
// HashAlgorithm's overload order (Stream first), and the SHA256Managed ProgID being registered
// by every .NET 2.0 install.
// A byte array (VT_ARRAY | VT_UI1) as JScript holds it: an opaque value that only COM methods
// read; any property of it (length, [0]) throws here. The bytes live beside it.
const byteArrays = new WeakMap();

function byteArray(bytes) {
  const handle = new Proxy(Object.create(null), {
    get(target, name) {
      if (typeof name === "symbol") {
        return undefined;
      }
      throw comError(`a byte array has no property ${String(name)}`, -2146827850);
    },
    set() {
      throw comError("a byte array cannot be changed from JScript", -2146827850);
    },
  });
  byteArrays.set(handle, Buffer.from(bytes));
  return handle;
}

function bytesOf(value, what) {
  if (!byteArrays.has(value)) {
    // ADO's adErrInvalidArgument, .NET's type mismatch through COM: both an error, not a coercion
    throw comError(`${what}: arguments are of the wrong type`, -2146825287);
  }
  return byteArrays.get(value);
}

// A COM object whose properties are fixed: an unknown name read or written throws.
function strictObject(target, kind) {
  return new Proxy(target, {
    get(object, name) {
      if (typeof name === "symbol") {
        return undefined;
      }
      if (!(name in object)) {
        throw comError(`${kind} has no property ${String(name)}`, -2146827850);
      }
      return object[name];
    },
    set(object, name, value) {
      if (!(name in object)) {
        throw comError(`${kind} has no property ${String(name)}`, -2146827850);
      }
      object[name] = value;
      return true;
    },
  });
}

// Microsoft.XMLDOM's createElement: an element whose dataType is bin.base64 or bin.hex (the
// only types step.js uses; others throw here). nodeTypedValue is the bytes (a byte array), text
// their encoding; a node without content has a Null typed value (nodeTypedValue Property, MSXML
// SDK); text that is not valid base64 or hex fails when read as typed.
function xmlElement() {
  let type = null;
  let content = "";
  const element = {
    get dataType() {
      return type;
    },
    set dataType(value) {
      if (value !== "bin.base64" && value !== "bin.hex") {
        throw new Error(`fake MSXML: dataType ${value} is not modelled`);
      }
      type = value;
    },
    get text() {
      return content;
    },
    set text(value) {
      content = String(value);
    },
    get nodeTypedValue() {
      if (type === null) {
        return content;
      }
      if (content === "") {
        return null;
      }
      const compact = content.replace(/\s+/g, "");
      const valid =
        type === "bin.base64"
          ? /^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 === 0
          : /^(?:[0-9A-Fa-f]{2})*$/.test(compact);
      if (!valid) {
        throw comError(`Error parsing '${content.slice(0, 20)}' as ${type} datatype.`, -1072898028);
      }
      return byteArray(Buffer.from(compact, type === "bin.base64" ? "base64" : "hex"));
    },
    set nodeTypedValue(value) {
      if (type === null) {
        content = String(value);
        return;
      }
      const bytes = bytesOf(value, "nodeTypedValue");
      content = type === "bin.base64" ? bytes.toString("base64") : bytes.toString("hex");
    },
  };
  return strictObject(element, "IXMLDOMElement");
}

// ADODB.Stream (ADO 2.5, Stream Object): Type 1 binary / 2 text (the default, set only at
// Position 0), Open, Write (bytes at Position, over what is there), Read (from Position, Null
// at the end), Position, Size, LoadFromFile (replaces the content, Position 0; a missing file
// is adErrFileOpen 3002), SaveToFile (the whole content, Position 0 after; an existing file
// needs adSaveCreateOverWrite 2, else adErrWriteFile 3004), Close. Calls on a closed stream are
// adErrObjectClosed 3704; binary calls on a text stream adErrIllegalOperation 3219 (stricter:
// ADO converts in some cases).
function adodbStream() {
  const CLOSED = comError("Operation is not allowed when the object is closed.", -2146824584);
  const ILLEGAL = comError("Operation is not allowed in this context.", -2146825069);
  let type = 2;
  let isOpen = false;
  let data = Buffer.alloc(0);
  let position = 0;
  function binary() {
    if (!isOpen) {
      throw CLOSED;
    }
    if (type !== 1) {
      throw ILLEGAL;
    }
  }
  const stream = {
    get Type() {
      return type;
    },
    set Type(value) {
      if (isOpen && position !== 0) {
        throw ILLEGAL;
      }
      type = Number(value);
    },
    get Position() {
      if (!isOpen) {
        throw CLOSED;
      }
      return position;
    },
    set Position(value) {
      if (!isOpen) {
        throw CLOSED;
      }
      if (Number(value) < 0 || Number(value) > data.length) {
        throw ILLEGAL;
      }
      position = Number(value);
    },
    get Size() {
      if (!isOpen) {
        throw CLOSED;
      }
      return data.length;
    },
    Open() {
      if (isOpen) {
        throw comError("Operation is not allowed when the object is open.", -2146824583);
      }
      isOpen = true;
      data = Buffer.alloc(0);
      position = 0;
    },
    Write(value) {
      binary();
      const bytes = bytesOf(value, "ADODB.Stream.Write");
      const end = position + bytes.length;
      data = Buffer.concat([data.subarray(0, position), bytes, data.subarray(end)]);
      position = end;
    },
    Read(count) {
      binary();
      const end = count === undefined ? data.length : Math.min(data.length, position + count);
      if (position >= data.length) {
        return null;
      }
      const out = data.subarray(position, end);
      position = end;
      return byteArray(out);
    },
    LoadFromFile(path) {
      if (!isOpen) {
        throw CLOSED;
      }
      const bytes = fileBytes(path);
      if (bytes === undefined) {
        throw comError("File could not be opened.", -2146825286);
      }
      data = Buffer.from(bytes);
      position = 0;
    },
    SaveToFile(path, option) {
      if (!isOpen) {
        throw CLOSED;
      }
      if (files.has(filePath(path)) && Number(option) !== 2) {
        throw comError("Write to file failed.", -2146825284);
      }
      writeFile(path, data);
      position = 0;
    },
    Close() {
      if (!isOpen) {
        throw CLOSED;
      }
      isOpen = false;
      data = Buffer.alloc(0);
    },
  };
  return strictObject(stream, "ADODB.Stream");
}

// System.Security.Cryptography.SHA256Managed through COM interop: creatable only where the .NET
// Framework is installed (HOST.json "dotnet"); elsewhere as any unregistered ProgID. Overloads
// are numbered for COM clients (KB 317626): ComputeHash is HashAlgorithm's first overload
// (Stream), ComputeHash_2 the byte[] one; a byte array given to ComputeHash is a type mismatch,
// and a Null buffer is .NET's ArgumentNullException.
function sha256Managed() {
  if (!host.dotnet) {
    throw comError("Automation server can't create object", -2146827859);
  }
  return strictObject(
    {
      ComputeHash() {
        throw comError("Type mismatch", -2146828275);
      },
      ComputeHash_2(value) {
        if (value === null || value === undefined) {
          throw comError("Value cannot be null.\r\nParameter name: buffer", -2147467261);
        }
        const bytes = bytesOf(value, "ComputeHash_2");
        return byteArray(require("crypto").createHash("sha256").update(bytes).digest());
      },
    },
    "SHA256Managed",
  );
}

function ActiveXObject(progId) {
  failIfBroken(progId);
  switch (String(progId).toLowerCase()) {
    case "wscript.shell":
      return { RegRead: regRead, ExpandEnvironmentStrings: expand, Exec: exec };
    case "scripting.filesystemobject":
      return fileSystem;
    case "wbemscripting.swbemlocator":
      return wbemLocator();
    case "wbemscripting.swbemnamedvalueset":
      return namedValueSet();
    case "wscript.network":
      return comObject({ ComputerName: host.computer_name }, "WshNetwork");
    case "microsoft.xmldom":
      return strictObject({ createElement: () => xmlElement() }, "DOMDocument");
    case "adodb.stream":
      return adodbStream();
    case "system.security.cryptography.sha256managed":
      return sha256Managed();
    default:
      throw comError("Automation server can't create object", -2146827859);
  }
}

const written = [];
const WScript = {
  StdIn: { ReadAll: () => script },
  Sleep: (milliseconds) => {
    clock += Number(milliseconds);
  },
  StdOut: {
    Write: (text) => {
      written.push(String(text));
    },
  },
};

const context = vm.createContext({ WScript, ActiveXObject, GetObject, Enumerator, VBArray });
try {
  vm.runInContext(bootstrap, context, { filename: "bootstrap.js" });
} finally {
  process.stdout.write(written.join(""), "utf8");
  const stored = [...files.values()]
    .filter((file) => file.bytes !== undefined)
    .map(({ bytes, ...file }) => ({ ...file, content_base64: bytes.toString("base64") }));
  process.stderr.write(
    `${JSON.stringify({ queries, reads, executed, shutdowns, clock, files: stored, registryCalls })}\n`,
  );
}
