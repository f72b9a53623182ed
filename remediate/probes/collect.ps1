# Collector: OS and Exchange facts, services, components, file versions and event records,
# in one round trip. Runs on PowerShell 2.0 and later (Windows Server 2003 with WMF 2.0).
# Input: $RemediateArgs, one base64 JSON document set on the line before this code.
# Output: the framed records of remediate/probes/framing.py, and nothing else.
# Every failure becomes an 'error' record; the end marker is always written.
# #include common.ps1
function Write-ItemError([string]$Scope, [string]$Item, [object]$ErrorRecord) {
    $message = [string]$ErrorRecord
    if ($ErrorRecord.Exception) { $message = $ErrorRecord.Exception.Message }
    Write-Record 'error' @('scope', $Scope, 'item', $Item, 'message', $message)
}
function Format-UtcTime([DateTime]$Moment) {
    return $Moment.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
}
# --- facts ----------------------------------------------------------------------------------
function Get-RegistryValue([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -LiteralPath $Key -Name $Name -ErrorAction SilentlyContinue
    if ($item -eq $null) { return $null }
    return $item.$Name
}
function Get-Architecture {
    $arch = $env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = $env:PROCESSOR_ARCHITECTURE }
    switch ($arch) {
        'AMD64' { return 'x64' }
        'IA64' { return 'ia64' }
        'ALPHA' { return 'alpha' }
        default { return 'x86' }
    }
}
function Write-Fact([string]$Name, [object]$Value) {
    Write-Record 'fact' @('name', $Name, 'value', $Value)
}
function Write-OsFacts {
    Write-Fact 'engine' 'powershell'
    Write-Fact 'hostname' $env:COMPUTERNAME
    Write-Fact 'ps_version' $PSVersionTable.PSVersion.ToString()
    Write-Fact 'time_utc' (Format-UtcTime ([DateTime]::UtcNow))
    Write-Fact 'timezone' ([TimeZone]::CurrentTimeZone.StandardName)
    Write-Fact 'os_arch' (Get-Architecture)
    try {
        $os = Get-WmiObject -Class Win32_OperatingSystem
        Write-Fact 'os_caption' ([string]$os.Caption).Trim()
        Write-Fact 'os_version' $os.Version
        Write-Fact 'os_build' $os.BuildNumber
        Write-Fact 'os_sp' $os.ServicePackMajorVersion
        $script:OsMajor = [int](([string]$os.Version).Split('.')[0])
    } catch {
        Write-ItemError 'facts' 'os' $_
        $script:OsMajor = [Environment]::OSVersion.Version.Major
    }
}
function Write-PendingReboot {
    $pending = $false
    try {
        $renames = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
        if ($renames -ne $null) {
            # Pairs of (new file, file it replaces); an empty target means a deletion.
            for ($i = 0; $i + 1 -lt $renames.Count; $i += 2) {
                $pending = $true
                $target = ([string]$renames[$i + 1]).TrimStart('!').Replace('\??\', '')
                if ($target.Length -gt 0) { Write-Record 'pending_rename' @('path', $target) }
            }
        }
        foreach ($key in @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending', 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')) {
            if (Test-Path -LiteralPath $key) { $pending = $true }
        }
    } catch {
        Write-ItemError 'facts' 'pending_reboot' $_
    }
    if ($pending) { Write-Fact 'pending_reboot' '1' } else { Write-Fact 'pending_reboot' '0' }
}
function Get-ExchangeRoot {
    $root = Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Exchange\Setup' 'Services'
    if ($root) { return ([string]$root).TrimEnd('\') }
    foreach ($name in @('msexchangeis', 'msexchangesa', 'msexchangemta')) {
        $service = $script:Services[$name]
        if ($service -eq $null) { continue }
        $image = ([string]$service.PathName).Trim('"')
        $bin = $image.ToLower().LastIndexOf('\bin\')
        if ($bin -gt 0) { return $image.Substring(0, $bin) }
    }
    return $null
}
function Get-FileVersionText([string]$Path) {
    $info = [Diagnostics.FileVersionInfo]::GetVersionInfo($Path)
    if (-not $info.FileVersion) { return @($null, $null) }
    $numeric = '{0}.{1}.{2}.{3}' -f $info.FileMajorPart, $info.FileMinorPart, $info.FileBuildPart, $info.FilePrivatePart
    return @($numeric, ([string]$info.FileVersion).Trim())
}
function Write-ExchangeFacts {
    try {
        $script:ExchangeRoot = Get-ExchangeRoot
        if (-not $script:ExchangeRoot) { return }
        Write-Fact 'exchange_root' $script:ExchangeRoot
        $store = Join-WindowsPath $script:ExchangeRoot 'bin\store.exe'
        if (Test-Path -LiteralPath $store -PathType Leaf) {
            Write-Fact 'exchange_build' (Get-FileVersionText $store)[0]
        }
        $sp = Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Exchange\Setup' 'ServicePackNumber'
        if ($sp -ne $null) { Write-Fact 'exchange_sp' $sp }
    } catch {
        Write-ItemError 'facts' 'exchange' $_
    }
}
# --- services and components -----------------------------------------------------------------
function Read-Services {
    $script:Services = @{}
    try {
        foreach ($service in @(Get-WmiObject -Class Win32_Service)) {
            $script:Services[$service.Name.ToLower()] = $service
        }
    } catch {
        Write-ItemError 'services' '*' $_
    }
}
function Write-Services([object]$Names) {
    foreach ($name in @($Names)) {
        $service = $script:Services[([string]$name).ToLower()]
        if ($service -eq $null) {
            Write-Record 'service' @('name', $name, 'found', '0')
        } else {
            Write-Record 'service' @('name', $name, 'found', '1', 'state', $service.State, 'start_mode', $service.StartMode)
        }
    }
}
function Write-Components([object]$Components) {
    if (@($Components).Count -eq 0) { return }
    $features = $null
    foreach ($component in @($Components)) {
        try {
            if ($script:OsMajor -lt 6) {
                $value = Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\OC Manager\Subcomponents' $component['oc']
                $installed = '0'
                if ($value -eq 1) { $installed = '1' }
                Write-Record 'component' @('name', $component['name'], 'installed', $installed, 'mechanism', 'oc_manager')
            } else {
                if ($features -eq $null) {
                    $features = @{}
                    foreach ($feature in @(Get-WmiObject -Class Win32_ServerFeature)) { $features[$feature.Name.ToLower()] = $true }
                }
                $installed = '0'
                if ($features[([string]$component['feature']).ToLower()]) { $installed = '1' }
                Write-Record 'component' @('name', $component['name'], 'installed', $installed, 'mechanism', 'server_feature')
            }
        } catch {
            Write-ItemError 'component' $component['name'] $_
        }
    }
}
# --- files -----------------------------------------------------------------------------------
function Join-WindowsPath([string]$Root, [string]$Relative) {
    return $Root.TrimEnd('\') + '\' + $Relative.TrimStart('\')
}
function Resolve-TargetPath([object]$File) {
    switch ([string]$File['root']) {
        'exchange' {
            if (-not $script:ExchangeRoot) { throw 'the Exchange install folder was not found' }
            return Join-WindowsPath $script:ExchangeRoot $File['path']
        }
        'system32' { return Join-WindowsPath ([Environment]::SystemDirectory) $File['path'] }
        'windows' { return Join-WindowsPath $env:SystemRoot $File['path'] }
        default { return [string]$File['path'] }
    }
}
function Write-Files([object]$Files) {
    foreach ($file in @($Files)) {
        try {
            $path = Resolve-TargetPath $file
            if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
                Write-Record 'file' @('id', $file['id'], 'path', $path, 'exists', '0')
                continue
            }
            $item = Get-Item -LiteralPath $path
            $version = Get-FileVersionText $item.FullName
            Write-Record 'file' @('id', $file['id'], 'path', $path, 'exists', '1', 'version', $version[0], 'version_text', $version[1], 'size', $item.Length, 'modified', (Format-UtcTime $item.LastWriteTimeUtc))
        } catch {
            Write-ItemError 'file' $file['id'] $_
        }
    }
}
# --- events ----------------------------------------------------------------------------------
function ConvertTo-HexText([byte[]]$Bytes) {
    if ($Bytes -eq $null) { return '' }
    $hex = New-Object System.Text.StringBuilder
    foreach ($b in $Bytes) { [void]$hex.Append($b.ToString('x2')) }
    return $hex.ToString()
}
function Get-EventTypeName([object]$Level, [object]$Keywords) {
    if ($Keywords -ne $null) {
        if (([long]$Keywords -band 0x20000000000000) -ne 0) { return 'SuccessAudit' }
        if (([long]$Keywords -band 0x10000000000000) -ne 0) { return 'FailureAudit' }
    }
    switch ([int]$Level) {
        1 { return 'Error' }
        2 { return 'Error' }
        3 { return 'Warning' }
        default { return 'Information' }
    }
}
function Test-WinEventApi {
    if ($script:OsMajor -lt 6) { return $false }
    return [bool](Get-Command -Name Get-WinEvent -ErrorAction SilentlyContinue)
}
function Read-Since([string]$Text) {
    if (-not $Text) { return $null }
    $styles = [Globalization.DateTimeStyles]'AdjustToUniversal,AssumeUniversal'
    return [DateTime]::Parse($Text, [Globalization.CultureInfo]::InvariantCulture, $styles)
}
function New-EventRow([DateTime]$Time, [string]$Type, [string]$Source, [int]$Id, [string]$Message, [string]$Data, [long]$Record) {
    return New-Object PSObject -Property @{ Time = $Time; Type = $Type; Source = $Source; Id = $Id; Message = $Message; Data = $Data; Record = $Record }
}
function Get-MatchingEvents([object]$Query, [bool]$WinEvent) {
    $since = Read-Since $Query['since']
    $sources = @($Query['sources'] | ForEach-Object { ([string]$_).ToLower() })
    $ids = @($Query['ids'] | ForEach-Object { [int]$_ })
    $found = New-Object System.Collections.ArrayList
    if ($WinEvent) {
        $filter = @{ LogName = [string]$Query['log'] }
        if ($sources.Count -gt 0) { $filter['ProviderName'] = [string[]]@($Query['sources']) }
        if ($ids.Count -gt 0) { $filter['Id'] = [int[]]$ids }
        if ($since -ne $null) { $filter['StartTime'] = $since.ToLocalTime() }
        try {
            $events = @(Get-WinEvent -FilterHashtable $filter -ErrorAction Stop)
        } catch {
            if ($_.FullyQualifiedErrorId -match 'NoMatchingEventsFound') { return ,$found }
            throw
        }
        foreach ($e in $events) {
            $data = ''
            $binary = ([xml]$e.ToXml()).Event.EventData.Binary
            if ($binary) { $data = ([string]$binary).ToLower() }
            [void]$found.Add((New-EventRow $e.TimeCreated (Get-EventTypeName $e.Level $e.Keywords) $e.ProviderName $e.Id $e.FormatDescription() $data $e.RecordId))
        }
        return ,$found
    }
    $arguments = @{ LogName = [string]$Query['log'] }
    if ($since -ne $null) { $arguments['After'] = $since.ToLocalTime() }
    foreach ($e in @(Get-EventLog @arguments)) {
        if ($sources.Count -gt 0 -and -not ($sources -contains $e.Source.ToLower())) { continue }
        if ($ids.Count -gt 0 -and -not ($ids -contains [int]$e.EventID)) { continue }
        [void]$found.Add((New-EventRow $e.TimeGenerated ([string]$e.EntryType) $e.Source ([int]$e.EventID) $e.Message (ConvertTo-HexText $e.Data) $e.Index))
    }
    return ,$found
}
function Write-Events([object]$Queries) {
    if (@($Queries).Count -eq 0) { return }
    $winEvent = Test-WinEventApi
    foreach ($query in @($Queries)) {
        try {
            $found = Get-MatchingEvents $query $winEvent
            $first = $null
            $last = $null
            foreach ($e in $found) {
                if ($first -eq $null -or $e.Time -lt $first) { $first = $e.Time }
                if ($last -eq $null -or $e.Time -gt $last) { $last = $e.Time }
            }
            $summary = @('id', $query['id'], 'total', $found.Count)
            if ($first -ne $null) { $summary += @('first', (Format-UtcTime $first), 'last', (Format-UtcTime $last)) }
            Write-Record 'events' $summary
            $max = 20
            if ($query['max'] -ne $null) { $max = [int]$query['max'] }
            $newest = @($found | Sort-Object -Property Time -Descending | Select-Object -First $max)
            foreach ($e in $newest) {
                Write-Record 'event' @('filter', $query['id'], 'time', (Format-UtcTime $e.Time), 'type', $e.Type, 'source', $e.Source, 'event_id', $e.Id, 'message', $e.Message, 'data', $e.Data, 'record', $e.Record)
            }
        } catch {
            Write-ItemError 'events' $query['id'] $_
        }
    }
}
# --- main ------------------------------------------------------------------------------------
$script:Stdout.Write("REMEDIATE-OUTPUT 1 collect`r`n")
$script:OsMajor = 5
$script:ExchangeRoot = $null
$script:Services = @{}
try {
    $request = ConvertFrom-ArgumentText $RemediateArgs
    Write-OsFacts
    Write-PendingReboot
    Read-Services
    Write-ExchangeFacts
    Write-Services $request['services']
    Write-Components $request['components']
    Write-Files $request['files']
    Write-Events $request['events']
} catch {
    Write-ItemError 'script' 'collect' $_
}
$script:Stdout.Write("REMEDIATE-END $($script:RecordCount)`r`n")
$script:Stdout.Flush()
