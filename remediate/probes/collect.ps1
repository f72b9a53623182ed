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
# PendingFileRenameOperations (REG_MULTI_SZ) holds pairs (source, destination) in the order
# MoveFileEx(MOVEFILE_DELAY_UNTIL_REBOOT) registered them: a rename stores '\??\source',
# '\??\destination' ('!\??\destination' with MOVEFILE_REPLACE_EXISTING); a delete stores
# '\??\source' and an EMPTY destination (Microsoft Learn, MoveFileExA, Remarks; Sysinternals
# PendMoves shows 'Target: DELETE'). An empty string is not valid REG_MULTI_SZ ('it is not
# possible to include a zero-length string in the sequence', Microsoft Learn, Registry Value
# Types), so readers differ: the .NET Framework 4 reference source (RegistryKey.InternalGetValue)
# keeps inner empty strings; whether .NET 2.0's RegistryKey.GetValue (Get-ItemProperty on
# PowerShell 2.0) keeps them is unverified, so a reader that DROPS them is assumed: pairing two
# by two would then shift every pair after a delete. Same pairing as collect.js renameTargets.
# The destinations (files a reboot replaces), paired whether or not empty entries survived.
function Get-RenameTargets([object[]]$Entries) {
    $targets = @()
    $keepsEmpty = $false
    foreach ($entry in $Entries) { if ([string]$entry -eq '') { $keepsEmpty = $true } }
    $i = 0
    while ($i + 1 -lt $Entries.Count) {
        $next = [string]$Entries[$i + 1]
        if ($next -eq '') {
            $i += 2
        } elseif ($next.StartsWith('!')) {
            $targets += $next
            $i += 2
        } elseif ((-not $keepsEmpty) -and ($i + 2 -lt $Entries.Count) -and ([string]$Entries[$i + 2]).StartsWith('!')) {
            $i += 1
        } else {
            # A destination, or (empty entries dropped) the next source: either way a path that
            # changes at restart; counted, and read again as a source when unsure.
            $targets += $next
            if ($keepsEmpty) { $i += 2 } else { $i += 1 }
        }
    }
    return ,$targets
}
function Write-PendingReboot {
    $pending = $false
    try {
        $renames = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
        if ($renames -ne $null) {
            $renames = @($renames)
            if ($renames.Count -gt 0) { $pending = $true }
            foreach ($entry in (Get-RenameTargets $renames)) {
                $target = ([string]$entry).TrimStart('!').Replace('\??\', '')
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
# --- Exchange --------------------------------------------------------------------------------
# Where each version keeps its install folder (remediate/lab/registry.py has the sources):
# 2013 to SE SOFTWARE\Microsoft\ExchangeServer\v15\Setup and 2010 ...\v14\Setup, value
# MsiInstallPath (CSS-Exchange Get-ExchangeInstallDirectory.ps1, HealthChecker
# Get-ExchangeRegistryValues.ps1); 2007 SOFTWARE\Microsoft\Exchange\Setup, MsiInstallPath
# (Microsoft's support diagnostic DC_ChkSym_DPM.ps1); 5.5 to 2003 the Services value of that
# same key (KB Q147374, Q149205). Roles are the subkeys of the parent of 2010+'s Setup key and
# of 2007's SOFTWARE\Microsoft\Exchange\v8.0 (HealthChecker tests v15\EdgeTransportRole).
$script:ExchangeSetups = @(
    @{ Key = 'SOFTWARE\Microsoft\ExchangeServer\v15\Setup'; Roles = 'SOFTWARE\Microsoft\ExchangeServer\v15'; Store = $false },
    @{ Key = 'SOFTWARE\Microsoft\ExchangeServer\v14\Setup'; Roles = 'SOFTWARE\Microsoft\ExchangeServer\v14'; Store = $true },
    @{ Key = 'SOFTWARE\Microsoft\Exchange\Setup'; Roles = 'SOFTWARE\Microsoft\Exchange\v8.0'; Store = $true }
)
$script:ExchangeRoleKeys = @(
    @('MailboxRole', 'Mailbox'), @('ClientAccessRole', 'ClientAccess'), @('CafeRole', 'ClientAccess'),
    @('HubTransportRole', 'HubTransport'), @('EdgeTransportRole', 'EdgeTransport'),
    @('UnifiedMessagingRole', 'UnifiedMessaging'), @('FrontendTransportRole', 'FrontendTransport'),
    @('AdminTools', 'Management')
)
$script:ExchangeRoleOrder = @('Mailbox', 'ClientAccess', 'HubTransport', 'EdgeTransport', 'UnifiedMessaging', 'FrontendTransport', 'Management')
# HKLM\SOFTWARE in the 64-bit view whatever this process is: a 32-bit PowerShell (SysWOW64)
# on 64-bit Windows reads SOFTWARE through SOFTWARE\Wow6432Node ("Registry Redirector",
# Microsoft Learn) and Get-ItemProperty would find no Exchange there. .NET 2.0 (PowerShell
# 2.0) has no RegistryKey.OpenBaseKey(RegistryView), so the registry provider is asked with
# __ProviderArchitecture=64 in the context of the call ("Requesting WMI Data on a 64-bit
# Platform", Microsoft Learn; __RequiredArchitecture is not set: on 32-bit Windows the one
# provider answers). StdRegProv hDefKey HKEY_LOCAL_MACHINE is 0x80000002.
function Open-RegistryProvider {
    $context = New-Object System.Management.ManagementNamedValueCollection
    if ((Get-Architecture) -ne 'x86') { $context.Add('__ProviderArchitecture', 64) }
    $options = New-Object System.Management.ConnectionOptions
    $options.Context = $context
    $options.Impersonation = [System.Management.ImpersonationLevel]::Impersonate
    $scope = New-Object System.Management.ManagementScope('\\.\root\default', $options)
    $path = New-Object System.Management.ManagementPath('StdRegProv')
    $provider = New-Object System.Management.ManagementClass($scope, $path, (New-Object System.Management.ObjectGetOptions($context)))
    $call = New-Object System.Management.InvokeMethodOptions
    $call.Context = $context
    return New-Object PSObject -Property @{ Provider = $provider; Call = $call; Hive = [uint32]'2147483650' }
}
# One StdRegProv call: the output field, or $null when the key or value is not there.
function Invoke-Registry([string]$Method, [string]$SubKey, [string]$Name, [string]$Field) {
    if ($null -eq $script:Registry) { $script:Registry = Open-RegistryProvider }
    $in = $script:Registry.Provider.GetMethodParameters($Method)
    $in.SetPropertyValue('hDefKey', $script:Registry.Hive)
    $in.SetPropertyValue('sSubKeyName', $SubKey)
    if ($Name) { $in.SetPropertyValue('sValueName', $Name) }
    $out = $script:Registry.Provider.InvokeMethod($Method, $in, $script:Registry.Call)
    if ([long]$out.GetPropertyValue('ReturnValue') -ne 0) { return $null }
    return $out.GetPropertyValue($Field)
}
function Get-ExchangeRoles([string]$Parent) {
    $present = @{}
    foreach ($name in @(Invoke-Registry 'EnumKey' $Parent '' 'sNames')) {
        if ($null -ne $name) { $present[([string]$name).ToLower()] = $true }
    }
    $roles = @{}
    foreach ($pair in $script:ExchangeRoleKeys) {
        if ($present[$pair[0].ToLower()]) { $roles[$pair[1]] = $true }
    }
    $found = @()
    foreach ($role in $script:ExchangeRoleOrder) { if ($roles[$role]) { $found += $role } }
    return ($found -join ',')
}
# The build from a binary's file version: Bin\ExSetup.exe from 2007 on ("Get-Command
# Exsetup.exe | ForEach {$_.FileVersionInfo}", Microsoft Learn, "Exchange Server build
# numbers and release dates"; CSS-Exchange Shared/Get-ExSetupFileVersionInfo.ps1 reads
# MsiInstallPath\bin\ExSetup.exe), bin\store.exe before (2013 and later have no store.exe).
function Get-ExchangeBuild([string]$Root, [object[]]$Names) {
    foreach ($name in $Names) {
        $file = Join-WindowsPath $Root $name
        if (Test-Path -LiteralPath $file -PathType Leaf) { return (Get-FileVersionText $file)[0] }
    }
    return $null
}
function Set-ExchangeVersion([object]$Build) {
    $script:ExchangeVersion = ''
    if ($Build) { $script:ExchangeVersion = (([string]$Build).Split('.')[0..1]) -join '.' }
}
# Exchange 2007 and later: the setup key that names the install folder, or $null.
function Find-ExchangeSetup {
    foreach ($setup in $script:ExchangeSetups) {
        $root = Invoke-Registry 'GetStringValue' $setup.Key 'MsiInstallPath' 'sValue'
        if ($root) { return New-Object PSObject -Property @{ Setup = $setup; Root = ([string]$root).TrimEnd('\') } }
    }
    return $null
}
function Write-ModernExchangeFacts([object]$Found) {
    $script:ExchangeRoot = $Found.Root
    $script:ExchangeVersion = ''
    Write-Fact 'exchange_root' $Found.Root
    Write-Fact 'exchange_setup_key' ('HKLM\' + $Found.Setup.Key)
    try {
        $names = @('Bin\ExSetup.exe')
        if ($Found.Setup.Store) { $names += 'Bin\store.exe' }
        $build = Get-ExchangeBuild $Found.Root $names
        Write-Fact 'exchange_build' $build
        Set-ExchangeVersion $build
    } catch {
        Write-ItemError 'facts' 'exchange_build' $_
    }
    try {
        Write-Fact 'exchange_roles' (Get-ExchangeRoles $Found.Setup.Roles)
    } catch {
        Write-ItemError 'facts' 'exchange_roles' $_
    }
}
# Exchange 5.5 to 2003: setup's Services value, else a service's image path.
function Get-LegacyExchangeRoot {
    $root = Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Exchange\Setup' 'Services'
    if ($root) { return @(([string]$root).TrimEnd('\'), 'HKLM\SOFTWARE\Microsoft\Exchange\Setup') }
    foreach ($name in @('msexchangeis', 'msexchangesa', 'msexchangemta')) {
        $service = $script:Services[$name]
        if ($service -eq $null) { continue }
        $image = ([string]$service.PathName).Trim('"')
        $bin = $image.ToLower().LastIndexOf('\bin\')
        if ($bin -gt 0) { return @($image.Substring(0, $bin), $null) }
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
    $found = $null
    try {
        $found = Find-ExchangeSetup
    } catch {
        Write-ItemError 'facts' 'exchange_registry' $_
    }
    if ($null -ne $found) { Write-ModernExchangeFacts $found; return }
    try {
        $found = Get-LegacyExchangeRoot
        if ($null -eq $found) { return }
        $script:ExchangeRoot = $found[0]
        Write-Fact 'exchange_root' $script:ExchangeRoot
        if ($found[1]) { Write-Fact 'exchange_setup_key' $found[1] }
        $build = Get-ExchangeBuild $script:ExchangeRoot @('bin\store.exe')
        Write-Fact 'exchange_build' $build
        Set-ExchangeVersion $build
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
                # Win32_ServerFeature.Name is the localised display name; ID (uint32, Key) is the
                # same in every language: "Win32_ServerFeature class", ID property (Microsoft Learn).
                if ($features -eq $null) {
                    $features = @{}
                    foreach ($feature in @(Get-WmiObject -Class Win32_ServerFeature)) { $features[([string][long]$feature.ID)] = $true }
                }
                $installed = '0'
                $id = [long]$component['feature_id']
                if ($id -gt 0 -and $features[[string]$id]) { $installed = '1' }
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
# A filter applies unless it names Exchange versions (its playbook's) and this host's Exchange
# is known to be none of them or is absent; lab answers/collect.py `applies` decides alike.
function Test-FilterApplies([object]$Query) {
    $versions = @($Query['exchange'] | Where-Object { $_ -ne $null })
    if ($versions.Count -eq 0 -or $script:ExchangeVersion -eq '') { return $true }
    foreach ($v in $versions) { if ([string]$v -eq $script:ExchangeVersion) { return $true } }
    return $false
}
function New-EventFilter([object]$Query) {
    $ids = @($Query['ids'] | Where-Object { $_ -ne $null } | ForEach-Object { [int]$_ })
    $sources = @($Query['sources'] | Where-Object { $_ -ne $null } | ForEach-Object { ([string]$_).ToLower() })
    $max = 20
    if ($Query['max'] -ne $null) { $max = [int]$Query['max'] }
    return New-Object PSObject -Property @{ Query = $Query; Id = $Query['id']; Log = [string]$Query['log']; Since = (Read-Since $Query['since']); Sources = $sources; Ids = $ids; Max = $max; Found = (New-Object System.Collections.ArrayList) }
}
function Test-EventKind([object]$Filter, [string]$Source, [int]$Id) {
    if ($Filter.Sources.Count -gt 0 -and -not ($Filter.Sources -contains $Source.ToLower())) { return $false }
    if ($Filter.Ids.Count -gt 0 -and -not ($Filter.Ids -contains $Id)) { return $false }
    return $true
}
# Windows 2000/2003 logs, one pass per log. Get-EventLog is not used: it walks the whole log
# whatever -After says (PowerShell's GetEventLogCommand enumerates every entry from the newest
# and only skips those before -After), and its -InstanceId compares the full 32-bit
# InstanceId. Here: from the newest entry back, stopping at the first written before the
# bound (TimeWritten follows the record order; TimeGenerated <= TimeWritten; a clock set back
# can hide older entries: known limit). Event IDs: the low 16 bits of InstanceId, as the
# Event Viewer shows them; EventLogEntry.EventID masks only the top two bits ("The EventID
# property equals the InstanceId with the top two bits masked off", .NET docs).
function Read-ClassicLog([string]$LogName, [object]$Filters, [object]$Since) {
    $log = New-Object System.Diagnostics.EventLog($LogName)
    try {
        $entries = $log.Entries
        for ($i = $entries.Count - 1; $i -ge 0; $i--) {
            $e = $entries[$i]
            if ($Since -ne $null -and $e.TimeWritten -lt $Since) { break }
            $id = [int]($e.InstanceId -band 0xFFFF)
            $time = $null
            foreach ($filter in $Filters) {
                if (-not (Test-EventKind $filter $e.Source $id)) { continue }
                if ($filter.Since -ne $null -and $e.TimeGenerated -lt $filter.Since.ToLocalTime()) { continue }
                [void]$filter.Found.Add((New-Object PSObject -Property @{ Time = $e.TimeGenerated; Record = [long]$e.Index; Entry = $e; Id = $id }))
            }
        }
    } finally {
        $log.Dispose()
    }
}
# Windows 2008 and later: Get-WinEvent per log with LogName and StartTime, and the event IDs
# when there are at most 22 of them (more makes "The specified query is invalid": a known
# limit of the XPath the FilterHashtable becomes, e.g. MicrosoftDocs/PowerShell-Docs#9536,
# elastic/beats#1491; unverified beyond those reports). ProviderName is never sent: a name
# not registered makes the whole query fail ("The specified providers do not write events to
# any of the specified logs", PowerShell/PowerShell#15713); sources are compared here.
# Get-WinEvent reports a record it cannot read (EventLogReader.ReadEvent) or whose message it
# cannot format (FormatDescription: a provider whose message file is missing or broken) as a
# NON-terminating error and goes on with the next record (PowerShell's GetWinEventCommand,
# ReadEvents); under -ErrorAction Stop the first such record ended the whole query. They are
# collected instead: every record read is kept, and one 'error' record per log (scope
# event_record) says how many could not be read or formatted. A record whose properties
# throw here costs that record. NoMatchingEventsFound is no error; errors with no record
# read at all are the query's failure, reported per filter as before.
function Read-WinEventLog([string]$LogName, [object]$Filters, [object]$Since) {
    $filter = @{ LogName = $LogName }
    if ($Since -ne $null) { $filter['StartTime'] = $Since }
    $ids = @()
    foreach ($f in $Filters) {
        if ($f.Ids.Count -eq 0) { $ids = $null; break }
        foreach ($id in $f.Ids) { if (-not ($ids -contains $id)) { $ids += $id } }
    }
    if ($ids -ne $null -and $ids.Count -gt 0 -and $ids.Count -le 22) { $filter['Id'] = [int[]]$ids }
    $problems = @()
    try {
        $events = @(Get-WinEvent -FilterHashtable $filter -ErrorAction SilentlyContinue -ErrorVariable problems)
    } catch {
        if ($_.FullyQualifiedErrorId -match 'NoMatchingEventsFound') { return }
        throw
    }
    $bad = 0
    $first = $null
    foreach ($problem in @($problems)) {
        if ([string]$problem.FullyQualifiedErrorId -match 'NoMatchingEventsFound') { continue }
        $bad++
        if ($first -eq $null) { $first = $problem }
    }
    if ($events.Count -eq 0 -and $first -ne $null) { throw $first }
    foreach ($e in $events) {
        try {
            $id = [int]$e.Id
            $source = [string]$e.ProviderName
            foreach ($f in $Filters) {
                if (-not (Test-EventKind $f $source $id)) { continue }
                if ($f.Since -ne $null -and $e.TimeCreated -lt $f.Since.ToLocalTime()) { continue }
                [void]$f.Found.Add((New-Object PSObject -Property @{ Time = $e.TimeCreated; Record = [long]$e.RecordId; Entry = $e; Id = $id }))
            }
        } catch {
            $bad++
            if ($first -eq $null) { $first = $_ }
        }
    }
    if ($bad -gt 0) {
        $message = [string]$first
        if ($first.Exception) { $message = $first.Exception.Message }
        Write-Record 'error' @('scope', 'event_record', 'item', $LogName, 'message', "$bad record(s) could not be read or their message formatted; the first: $message")
    }
}
function ConvertTo-EventRow([object]$Found, [bool]$WinEvent) {
    $e = $Found.Entry
    if (-not $WinEvent) {
        return New-EventRow $e.TimeGenerated ([string]$e.EntryType) $e.Source $Found.Id $e.Message (ConvertTo-HexText $e.Data) $e.Index
    }
    $message = ''
    $data = ''
    try { $message = [string]$e.FormatDescription() } catch { $message = '' }
    try {
        $binary = ([xml]$e.ToXml()).Event.EventData.Binary
        if ($binary) { $data = ([string]$binary).ToLower() }
    } catch { $data = '' }
    $type = 'Information'
    try { $type = Get-EventTypeName $e.Level $e.Keywords } catch { $type = 'Information' }
    return New-EventRow $e.TimeCreated $type $e.ProviderName $Found.Id $message $data $e.RecordId
}
function Write-FilterEvents([object]$Filter, [bool]$WinEvent) {
    $first = $null
    $last = $null
    foreach ($e in $Filter.Found) {
        if ($first -eq $null -or $e.Time -lt $first) { $first = $e.Time }
        if ($last -eq $null -or $e.Time -gt $last) { $last = $e.Time }
    }
    $summary = @('id', $Filter.Id, 'total', $Filter.Found.Count)
    if ($first -ne $null) { $summary += @('first', (Format-UtcTime $first), 'last', (Format-UtcTime $last)) }
    Write-Record 'events' $summary
    if ($Filter.Max -le 0) { return }
    # The text of the newest samples only: FormatDescription/Message cost per record.
    $newest = @($Filter.Found | Sort-Object -Property @{ Expression = 'Time'; Descending = $true }, @{ Expression = 'Record'; Descending = $true } | Select-Object -First $Filter.Max)
    foreach ($found in $newest) {
        $row = ConvertTo-EventRow $found $WinEvent
        Write-Record 'event' @('filter', $Filter.Id, 'time', (Format-UtcTime $row.Time), 'type', $row.Type, 'source', $row.Source, 'event_id', $row.Id, 'message', $row.Message, 'data', $row.Data, 'record', $row.Record)
    }
}
# One pass per log for the filters that apply here, then the records in request order.
function Write-Events([object]$Queries) {
    if (@($Queries).Count -eq 0) { return }
    $winEvent = Test-WinEventApi
    $filters = @()
    $logs = @{}
    $order = @()
    foreach ($query in @($Queries)) {
        if (-not (Test-FilterApplies $query)) { continue }
        try {
            $filter = New-EventFilter $query
            $key = $filter.Log.ToLower()
            if (-not $logs.ContainsKey($key)) { $logs[$key] = @{ Name = $filter.Log; Filters = @(); Failure = $null }; $order += $key }
            $logs[$key].Filters += $filter
            $filters += New-Object PSObject -Property @{ Filter = $filter; Key = $key; Failure = $null; Id = $query['id'] }
        } catch {
            $filters += New-Object PSObject -Property @{ Filter = $null; Key = $null; Failure = $_; Id = $query['id'] }
        }
    }
    foreach ($key in $order) {
        $group = $logs[$key]
        $since = $null
        foreach ($f in $group.Filters) {
            if ($f.Since -eq $null) { $since = $null; break }
            if ($since -eq $null -or $f.Since -lt $since) { $since = $f.Since }
        }
        if ($since -ne $null) { $since = $since.ToLocalTime() }
        try {
            if ($winEvent) { Read-WinEventLog $group.Name $group.Filters $since } else { Read-ClassicLog $group.Name $group.Filters $since }
        } catch {
            $group.Failure = $_
        }
    }
    foreach ($item in $filters) {
        try {
            if ($item.Failure -ne $null) { Write-ItemError 'events' $item.Id $item.Failure; continue }
            $group = $logs[$item.Key]
            if ($group.Failure -ne $null) { Write-ItemError 'events' $item.Id $group.Failure; continue }
            Write-FilterEvents $item.Filter $winEvent
        } catch {
            Write-ItemError 'events' $item.Id $_
        }
    }
}
# --- main ------------------------------------------------------------------------------------
$script:Stdout.Write("REMEDIATE-OUTPUT 1 collect`r`n")
$script:OsMajor = 5
$script:ExchangeRoot = $null
$script:ExchangeVersion = $null
$script:Registry = $null
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
