# Shared by collect.ps1 and step.ps1, spliced in where they say '# #include common.ps1' when the
# script is built: output records (framing of remediate/probes/framing.py) and the reader of the
# base64 JSON arguments. PowerShell 2.0, like the scripts themselves.
$ErrorActionPreference = 'Stop'
$script:RecordCount = 0
$script:Stdout = [Console]::Out
function ConvertTo-Base64Text([object]$Value) {
    if ($Value -eq $null) { $Value = '' }
    return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$Value))
}
function Write-Record([string]$Kind, [object[]]$Pairs) {
    $line = New-Object System.Text.StringBuilder
    [void]$line.Append($Kind)
    for ($i = 0; $i -lt $Pairs.Count; $i += 2) {
        if ($Pairs[$i + 1] -eq $null) { continue }
        [void]$line.Append("`t").Append($Pairs[$i]).Append('=').Append((ConvertTo-Base64Text $Pairs[$i + 1]))
    }
    $script:Stdout.Write($line.ToString() + "`r`n")
    $script:RecordCount++
}
# --- a small JSON reader: PowerShell 2.0 has no ConvertFrom-Json ---------------------------
function Skip-JsonSpace {
    while ($script:JsonAt -lt $script:JsonText.Length -and [char]::IsWhiteSpace($script:JsonText[$script:JsonAt])) {
        $script:JsonAt++
    }
}
function Read-JsonString {
    $script:JsonAt++
    $text = New-Object System.Text.StringBuilder
    while ($true) {
        if ($script:JsonAt -ge $script:JsonText.Length) { throw 'arguments: unterminated string' }
        $c = $script:JsonText[$script:JsonAt]
        $script:JsonAt++
        if ($c -eq [char]'"') { return $text.ToString() }
        if ($c -ne [char]'\') { [void]$text.Append($c); continue }
        $e = $script:JsonText[$script:JsonAt]
        $script:JsonAt++
        switch -CaseSensitive ([string]$e) {
            'n' { [void]$text.Append("`n") }
            'r' { [void]$text.Append("`r") }
            't' { [void]$text.Append("`t") }
            'b' { [void]$text.Append([char]8) }
            'f' { [void]$text.Append([char]12) }
            'u' {
                $hex = $script:JsonText.Substring($script:JsonAt, 4)
                [void]$text.Append([char][Convert]::ToInt32($hex, 16))
                $script:JsonAt += 4
            }
            default { [void]$text.Append($e) }
        }
    }
}
function Read-JsonValue {
    Skip-JsonSpace
    if ($script:JsonAt -ge $script:JsonText.Length) { throw 'arguments: unexpected end' }
    $c = $script:JsonText[$script:JsonAt]
    if ($c -eq [char]'{') {
        $table = @{}
        $script:JsonAt++
        Skip-JsonSpace
        if ($script:JsonText[$script:JsonAt] -eq [char]'}') { $script:JsonAt++; return $table }
        while ($true) {
            Skip-JsonSpace
            $key = Read-JsonString
            Skip-JsonSpace
            if ($script:JsonText[$script:JsonAt] -ne [char]':') { throw 'arguments: expected a colon' }
            $script:JsonAt++
            $table[$key] = Read-JsonValue
            Skip-JsonSpace
            $next = $script:JsonText[$script:JsonAt]
            $script:JsonAt++
            if ($next -eq [char]'}') { return $table }
            if ($next -ne [char]',') { throw 'arguments: expected a comma in an object' }
        }
    }
    if ($c -eq [char]'[') {
        $list = New-Object System.Collections.ArrayList
        $script:JsonAt++
        Skip-JsonSpace
        if ($script:JsonText[$script:JsonAt] -eq [char]']') { $script:JsonAt++; return ,$list }
        while ($true) {
            [void]$list.Add((Read-JsonValue))
            Skip-JsonSpace
            $next = $script:JsonText[$script:JsonAt]
            $script:JsonAt++
            if ($next -eq [char]']') { return ,$list }
            if ($next -ne [char]',') { throw 'arguments: expected a comma in a list' }
        }
    }
    if ($c -eq [char]'"') { return Read-JsonString }
    foreach ($word in @('true', 'false', 'null')) {
        if ($script:JsonText.Length -ge $script:JsonAt + $word.Length -and $script:JsonText.Substring($script:JsonAt, $word.Length) -ceq $word) {
            $script:JsonAt += $word.Length
            if ($word -eq 'true') { return $true }
            if ($word -eq 'false') { return $false }
            return $null
        }
    }
    $start = $script:JsonAt
    while ($script:JsonAt -lt $script:JsonText.Length -and '0123456789+-.eE'.IndexOf($script:JsonText[$script:JsonAt]) -ge 0) {
        $script:JsonAt++
    }
    if ($script:JsonAt -eq $start) { throw "arguments: unexpected character at $start" }
    return [double]::Parse($script:JsonText.Substring($start, $script:JsonAt - $start), [Globalization.CultureInfo]::InvariantCulture)
}
function ConvertFrom-ArgumentText([string]$Encoded) {
    $script:JsonText = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Encoded))
    $script:JsonAt = 0
    $value = Read-JsonValue
    Skip-JsonSpace
    if ($script:JsonAt -ne $script:JsonText.Length) { throw 'arguments: text after the document' }
    return $value
}
