// A fake Windows Script Host for running remediate's JScript under node.
//
//   node wsh_host.js HOST.json BOOTSTRAP < script
//
// HOST.json describes the host (environment, registry, files, WMI instances; see
// tests/test_collect_js.py). The bootstrap (the transport's `eval(WScript.StdIn.ReadAll())`)
// runs in a fresh context whose globals are the fakes: WScript, ActiveXObject, GetObject,
// Enumerator and VBArray. What the script writes to WScript.StdOut goes to stdout; the WQL
// queries it ran go to stderr as one JSON line. The fakes are strict: an unknown ProgID, WMI
// class, WQL shape or property name throws, as COM would.
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
const HIVES = { HKLM: "HKEY_LOCAL_MACHINE", HKCU: "HKEY_CURRENT_USER" };

function registryPath(path) {
  const [hive, ...rest] = String(path).split("\\");
  return [HIVES[hive.toUpperCase()] || hive.toUpperCase(), ...rest].join("\\").toLowerCase();
}

const registry = new Map();
const registryKeys = new Set();
for (const [path, value] of Object.entries(host.registry || {})) {
  registry.set(registryPath(path), value);
}
function addKeyWithParents(key) {
  const parts = key.split("\\");
  for (let n = 1; n <= parts.length; n += 1) {
    registryKeys.add(parts.slice(0, n).join("\\"));
  }
}
for (const path of registry.keys()) {
  addKeyWithParents(path.split("\\").slice(0, -1).join("\\"));
}
for (const key of host.registry_keys || []) {
  addKeyWithParents(registryPath(key));
}

function regRead(path) {
  failIfBroken("RegRead");
  const entry = registry.get(registryPath(path));
  if (entry === undefined) {
    throw comError(`Unable to open registry key "${path}" for reading.`, -2147024894);
  }
  switch (entry.type) {
    case "REG_SZ":
      return String(entry.data);
    case "REG_DWORD":
      return Number(entry.data);
    case "REG_MULTI_SZ":
    case "REG_BINARY":
      return new SafeArray(entry.data);
    default:
      throw new Error(`fake registry: unknown type ${entry.type}`);
  }
}

function stdRegProv() {
  failIfBroken("StdRegProv");
  const methods = {
    EnumKey: {
      InParameters: {
        SpawnInstance_: () => ({ hDefKey: null, sSubKeyName: null }),
      },
    },
  };
  return {
    Methods_: { Item: (name) => methods[name] },
    ExecMethod_(name, input) {
      if (name !== "EnumKey" || input.hDefKey !== 0x80000002) {
        throw new Error(`fake StdRegProv: unexpected call ${name} ${input.hDefKey}`);
      }
      const key = registryPath(`HKEY_LOCAL_MACHINE\\${input.sSubKeyName}`);
      return comObject({ ReturnValue: registryKeys.has(key) ? 0 : 2 }, "__PARAMETERS");
    },
  };
}

// --- files ------------------------------------------------------------------------------------
function filePath(path) {
  return String(path).replace(/\//g, "\\").toLowerCase();
}

const files = new Map();
for (const file of host.files || []) {
  files.set(filePath(file.path), file);
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
      { Path: file.path, Size: file.size, DateLastModified: new Date(file.modified_ms) },
      "File",
    );
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
const WQL_ALL = /^SELECT \* FROM (Win32_\w+)$/;
const WQL_EVENTS = new RegExp(
  "^SELECT \\* FROM Win32_NTLogEvent WHERE Logfile = '([A-Za-z0-9 _-]+)'" +
    "(?: AND TimeWritten >= '(\\d{14}\\.\\d{6}[+-]\\d{3})')?$",
);

function wmiMoment(text) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(text);
  if (!m) {
    throw new Error(`fake WMI: bad datetime ${text}`);
  }
  const local = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + +m[7] / 1000;
  return local - (m[8] === "-" ? -1 : 1) * +m[9] * 60000;
}

function wmiInstance(className, properties) {
  const copy = {};
  for (const [name, value] of Object.entries(properties)) {
    copy[name] = Array.isArray(value) ? new SafeArray(value) : value;
  }
  return comObject(copy, className);
}

function execQuery(wql, language, flags) {
  queries.push(wql);
  if (language !== "WQL") {
    throw comError("fake WMI: only WQL", -2147217385);
  }
  const classes = host.wmi || {};
  let className = null;
  let select = () => true;
  const all = WQL_ALL.exec(wql);
  const events = WQL_EVENTS.exec(wql);
  if (all) {
    className = all[1];
  } else if (events) {
    className = "Win32_NTLogEvent";
    const log = events[1].toLowerCase();
    const since = events[2] === undefined ? null : wmiMoment(events[2]);
    select = (e) =>
      e.Logfile.toLowerCase() === log && (since === null || wmiMoment(e.TimeWritten) >= since);
  } else {
    throw comError(`fake WMI: query not understood: ${wql}`, -2147217385);
  }
  failIfBroken(className);
  if (!Object.prototype.hasOwnProperty.call(classes, className)) {
    throw comError(`Invalid class ${className}`, -2147217392);
  }
  const items = classes[className].filter(select).map((p) => wmiInstance(className, p));
  return new Collection(items, (flags & 32) !== 0);
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
    return { ExecQuery: execQuery };
  }
  throw comError(`fake GetObject: unknown namespace ${moniker}`, -2147217394);
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

function ActiveXObject(progId) {
  failIfBroken(progId);
  switch (String(progId).toLowerCase()) {
    case "wscript.shell":
      return { RegRead: regRead, ExpandEnvironmentStrings: expand };
    case "scripting.filesystemobject":
      return fileSystem;
    case "wscript.network":
      return comObject({ ComputerName: host.computer_name }, "WshNetwork");
    default:
      throw comError("Automation server can't create object", -2146827859);
  }
}

const written = [];
const WScript = {
  StdIn: { ReadAll: () => script },
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
  process.stderr.write(`${JSON.stringify({ queries })}\n`);
}
