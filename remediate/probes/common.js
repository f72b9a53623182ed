// Shared by collect.js and step.js, spliced in where they say `// #include common.js` (inside
// their function scope) when the script is built: output records, the argument reader, WMI.
// JScript 5.x, ECMAScript 3 only, like the scripts themselves.
    var BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    var recordCount = 0;
    var WMI_FORWARD_ONLY = 48; // wbemFlagReturnImmediately | wbemFlagForwardOnly
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

    // --- WMI (the Security privilege is for reading the Security event log) ----------------------
    function wmi() {
        if (wmiService === null) {
            wmiService = GetObject(
                "winmgmts:{impersonationLevel=impersonate,(Security)}!\\\\.\\root\\cimv2");
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
