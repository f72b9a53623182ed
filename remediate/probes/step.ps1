# Remediation step: one action (component, service, reboot, run, put_file, boot_time) on this host, PowerShell 2.0.
# Input: $RemediateArgs, one base64 JSON document {"v":1,"action":...} set before this code.
# Output: the framed records of remediate/probes/framing.py: one 'result' record (status,
# changed, exit_code, command, message), and nothing else; the end marker is always written.
# Data from the arguments is passed as values (process arguments, WMI method parameters), never
# pasted into code, a WQL query or a cmd.exe line.
# #include common.ps1
# --- results ---------------------------------------------------------------------------------
function New-Result([string]$Status, [bool]$Changed, [object]$ExitCode, [string]$Command, [string]$Message) {
    return @{ Status = $Status; Changed = $Changed; ExitCode = $ExitCode; Command = $Command; Message = $Message }
}
function Get-FailureText([object]$ErrorRecord) {
    $failure = $ErrorRecord
    if ($ErrorRecord.Exception) {
        $failure = $ErrorRecord.Exception
        while ($failure.InnerException -ne $null) { $failure = $failure.InnerException }
        $failure = $failure.Message
    }
    $text = ([string]$failure).Trim()
    if ($text.Length -gt 0 -and -not $text.EndsWith('.')) { $text += '.' }
    return $text
}
# --- programs --------------------------------------------------------------------------------
# One argument as CommandLineToArgvW reads it back: quoted when empty or holding blanks or quotes.
function ConvertTo-ArgumentText([string]$Value) {
    if ($Value.Length -gt 0 -and $Value -notmatch '[ \t\r\n"]') { return $Value }
    $out = New-Object System.Text.StringBuilder
    [void]$out.Append('"')
    $slashes = 0
    foreach ($c in $Value.ToCharArray()) {
        if ($c -eq [char]92) { $slashes++; continue }
        if ($c -eq [char]34) { [void]$out.Append([char]92, 2 * $slashes + 1) } else { [void]$out.Append([char]92, $slashes) }
        [void]$out.Append($c)
        $slashes = 0
    }
    [void]$out.Append([char]92, 2 * $slashes).Append('"')
    return $out.ToString()
}
# Start a program (no shell: a hidden window of its own, so its output never mixes with ours),
# wait for it up to the timeout, and judge its exit code.
function Invoke-Program([string]$Program, [string]$ArgumentText, [int]$Timeout, [object[]]$Allowed) {
    $command = ConvertTo-ArgumentText $Program
    if ($ArgumentText) { $command += ' ' + $ArgumentText }
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $Program
    $info.Arguments = $ArgumentText
    $info.UseShellExecute = $true
    $info.WindowStyle = [Diagnostics.ProcessWindowStyle]::Hidden
    try {
        $process = [Diagnostics.Process]::Start($info)
    } catch {
        $code = ''
        $failure = $_.Exception
        while ($failure.InnerException -ne $null) { $failure = $failure.InnerException }
        if ($failure -is [ComponentModel.Win32Exception]) { $code = $failure.NativeErrorCode }
        return New-Result 'failed' $false $code $command (Get-FailureText $_)
    }
    if ($process -eq $null) { return New-Result 'failed' $false '' $command 'No process was started.' }
    $milliseconds = [int][Math]::Min([double]$Timeout * 1000, [double][int]::MaxValue)
    if (-not $process.WaitForExit($milliseconds)) {
        try { $process.Kill() } catch { }
        return New-Result 'failed' $false '' $command "The program did not finish within $Timeout s and was stopped."
    }
    $code = $process.ExitCode
    foreach ($allowed in $Allowed) {
        if ([int]$allowed -eq $code) { return New-Result 'ok' $true $code $command "exit code $code" }
    }
    return New-Result 'failed' $false $code $command ("exit code $code is not allowed (" + ($Allowed -join ', ') + ')')
}
function Join-WindowsPath([string]$Root, [string]$Relative) {
    return $Root.TrimEnd('\') + '\' + $Relative.TrimStart('\')
}
function Get-System32 { return Join-WindowsPath $env:windir 'system32' }
function Read-Timeout([object]$Value, [int]$Default) {
    if ($Value -eq $null) { return $Default }
    return [int][Math]::Max(0, [double]$Value)
}
# --- components ------------------------------------------------------------------------------
$script:OcKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\OC Manager\Subcomponents'
$script:NoServerManager = "The specified module 'ServerManager' was not loaded because no valid module file was found in any module directory."
function Get-OsNumber {
    $version = [Environment]::OSVersion.Version
    return $version.Major * 10 + $version.Minor
}
function Get-OcState([string]$Name) {
    $item = Get-ItemProperty -LiteralPath $script:OcKey -Name $Name -ErrorAction SilentlyContinue
    if ($item -eq $null) { return $false }
    return $item.$Name -eq 1
}
function Test-MechanismFits([string]$Mechanism, [string]$Command) {
    $os = Get-OsNumber
    $fits = 'servermanager'
    if ($os -lt 60) { $fits = 'sysocmgr' } elseif ($os -eq 60) { $fits = 'ocsetup' }
    if ($Mechanism -eq $fits) { return $null }
    if ($Mechanism -eq 'servermanager') { return New-Result 'failed' $false 1 $Command $script:NoServerManager }
    if ($Mechanism -eq 'ocsetup' -and $os -gt 60) { return New-Result 'failed' $false 1 $Command 'ocsetup does not install features on Windows 6.1 and later: use servermanager.' }
    return New-Result 'failed' $false 2 $Command 'The system cannot find the file specified.'
}
function Invoke-Component([object]$Action) {
    $op = [string]$Action['op']
    $mechanism = [string]$Action['mechanism']
    $name = [string]$Action['name']
    # How long sysocmgr or ocsetup may run before it is stopped: the step's own timeout, which the
    # controller sends (its wait is this plus a margin). Add-WindowsFeature runs in this process
    # and cannot be stopped from here: only the controller's wait bounds it.
    $timeout = Read-Timeout $Action['timeout'] 3600
    if ($op -ne 'install' -and $op -ne 'remove') { return New-Result 'failed' $false '' '' "unknown component operation '$op'." }
    if ($name -cnotmatch '^[A-Za-z0-9][A-Za-z0-9._-]*$') { return New-Result 'failed' $false '' '' 'invalid component name.' }
    $system32 = Get-System32
    if ($mechanism -eq 'sysocmgr') {
        $unattend = [string]$Action['unattend']
        if (-not $unattend) { return New-Result 'failed' $false '' '' 'sysocmgr needs the unattend text.' }
        $file = Join-WindowsPath ([IO.Path]::GetTempPath()) ('remediate-' + [Guid]::NewGuid().ToString('N') + '.inf')
        $arguments = '/i:' + (Join-WindowsPath $env:windir 'inf\sysoc.inf') + ' /u:"' + $file + '" /q /r'
        $program = Join-WindowsPath $system32 'sysocmgr.exe'
        $unfit = Test-MechanismFits $mechanism ((ConvertTo-ArgumentText $program) + ' ' + $arguments)
        if ($unfit -ne $null) { return $unfit }
        $before = Get-OcState $name
        [IO.File]::WriteAllText($file, $unattend, [Text.Encoding]::Default)
        try {
            $result = Invoke-Program $program $arguments $timeout @(0)
        } finally {
            Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        }
        if ($result.Status -eq 'ok') { $result.Changed = (Get-OcState $name) -ne $before }
        return $result
    }
    if ($mechanism -eq 'ocsetup') {
        $program = Join-WindowsPath $system32 'ocsetup.exe'
        $arguments = ConvertTo-ArgumentText $name
        if ($op -eq 'remove') { $arguments += ' /uninstall' }
        $arguments += ' /quiet /norestart'
        $unfit = Test-MechanismFits $mechanism ((ConvertTo-ArgumentText $program) + ' ' + $arguments)
        if ($unfit -ne $null) { return $unfit }
        return Invoke-Program $program $arguments $timeout @(0, 3010)
    }
    if ($mechanism -eq 'servermanager') {
        $verb = 'Add-WindowsFeature'
        if ($op -eq 'remove') { $verb = 'Remove-WindowsFeature' }
        $command = "Import-Module ServerManager; $verb $name"
        $unfit = Test-MechanismFits $mechanism $command
        if ($unfit -ne $null) { return $unfit }
        try {
            Import-Module ServerManager
            if ($op -eq 'install') {
                $outcome = Add-WindowsFeature -Name $name -WarningAction SilentlyContinue
            } else {
                $outcome = Remove-WindowsFeature -Name $name -WarningAction SilentlyContinue
            }
        } catch {
            return New-Result 'failed' $false 1 $command (Get-FailureText $_)
        }
        $code = [string]$outcome.ExitCode
        if (-not $outcome.Success) { return New-Result 'failed' $false 1 $command "$verb failed: $code" }
        return New-Result 'ok' ($code -ne 'NoChangeNeeded') 0 $command $code
    }
    return New-Result 'failed' $false '' '' "unknown component mechanism '$mechanism'."
}
# --- services --------------------------------------------------------------------------------
# Win32_Service method return values -> the Windows error (code, message) they stand for.
$script:ServiceErrors = @{
    1 = @(50, 'The request is not supported.')
    2 = @(5, 'Access is denied.')
    3 = @(1051, 'A stop control has been sent to a service that other running services are dependent on.')
    4 = @(1052, 'The requested control is not valid for this service.')
    5 = @(1061, 'The service cannot accept control messages at this time.')
    6 = @(1062, 'The service has not been started.')
    7 = @(1053, 'The service did not respond to the start or control request in a timely fashion.')
    9 = @(3, 'The system cannot find the path specified.')
    11 = @(1055, 'The service database is locked.')
    12 = @(1068, 'The dependency service or group failed to start.')
    13 = @(1075, 'The dependency service does not exist or has been marked for deletion.')
    14 = @(1058, 'The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.')
    15 = @(1069, 'The service did not start due to a logon failure.')
    16 = @(1072, 'The specified service has been marked for deletion.')
    21 = @(87, 'The parameter is incorrect.')
}
$script:StartModes = @{ auto = 'Automatic'; manual = 'Manual'; disabled = 'Disabled' }
$script:ReadModes = @{ auto = 'Auto'; manual = 'Manual'; disabled = 'Disabled' }
function New-ServiceFailure([int]$ReturnValue, [string]$Command) {
    $known = $script:ServiceErrors[$ReturnValue]
    if ($known -eq $null) { return New-Result 'failed' $false $ReturnValue $Command "Win32_Service returned $ReturnValue." }
    return New-Result 'failed' $false $known[0] $Command $known[1]
}
function Find-Service([string]$Name) {
    foreach ($service in @(Get-WmiObject -Class Win32_Service)) {
        if ($service.Name -eq $Name) { return $service }
    }
    return $null
}
# Poll until the state is reached or the timeout passes; a start that falls back to Stopped
# after two seconds has failed. Returns the last state seen.
function Wait-ServiceState([object]$Service, [string]$State, [int]$Timeout) {
    $started = [DateTime]::UtcNow
    while ($true) {
        $Service.Get()
        $now = [string]$Service.State
        $waited = ([DateTime]::UtcNow - $started).TotalSeconds
        if ($now -eq $State -or $waited -ge $Timeout) { return $now }
        if ($State -eq 'Running' -and $now -eq 'Stopped' -and $waited -ge 2) { return $now }
        Start-Sleep -Milliseconds 500
    }
}
function Start-WmiService([object]$Service, [string]$Command, [int]$Timeout) {
    if ($Service.State -eq 'Running') { return New-Result 'ok' $false 0 $Command 'the service is already running' }
    $code = [int]$Service.StartService().ReturnValue
    if ($code -eq 10) { return New-Result 'ok' $false 0 $Command 'the service is already running' }
    if ($code -ne 0) { return New-ServiceFailure $code $Command }
    $state = Wait-ServiceState $Service 'Running' $Timeout
    if ($state -eq 'Running') { return New-Result 'ok' $true 0 $Command 'the service is running' }
    if ($state -eq 'Stopped') { return New-Result 'failed' $false 1067 $Command 'The process terminated unexpectedly.' }
    return New-ServiceFailure 7 $Command
}
function Stop-WmiService([object]$Service, [string]$Command, [int]$Timeout) {
    if ($Service.State -eq 'Stopped') { return New-Result 'ok' $false 0 $Command 'the service is already stopped' }
    $code = [int]$Service.StopService().ReturnValue
    if ($code -ne 0) { return New-ServiceFailure $code $Command }
    if ((Wait-ServiceState $Service 'Stopped' $Timeout) -ne 'Stopped') { return New-ServiceFailure 7 $Command }
    return New-Result 'ok' $true 0 $Command 'the service is stopped'
}
function Invoke-Service([object]$Action) {
    $op = [string]$Action['op']
    $name = [string]$Action['name']
    $timeout = Read-Timeout $Action['timeout'] 120
    $calls = @{ start = 'StartService()'; stop = 'StopService()'; restart = 'StopService() StartService()' }
    $mode = [string]$Action['mode']
    if ($op -eq 'start_mode') {
        if (-not $script:StartModes.ContainsKey($mode)) { return New-Result 'failed' $false '' '' "unknown start mode '$mode'." }
        $calls['start_mode'] = 'ChangeStartMode(' + $script:StartModes[$mode] + ')'
    }
    if (-not $calls.ContainsKey($op)) { return New-Result 'failed' $false '' '' "unknown service operation '$op'." }
    $command = 'Win32_Service ' + (ConvertTo-ArgumentText $name) + ' ' + $calls[$op]
    $service = Find-Service $name
    if ($service -eq $null) { return New-Result 'failed' $false 1060 $command 'The specified service does not exist as an installed service.' }
    if ($op -eq 'start') { return Start-WmiService $service $command $timeout }
    if ($op -eq 'stop') { return Stop-WmiService $service $command $timeout }
    if ($op -eq 'restart') {
        $stopped = Stop-WmiService $service $command $timeout
        if ($stopped.Status -ne 'ok') { return $stopped }
        $result = Start-WmiService $service $command $timeout
        if ($result.Status -eq 'ok') { $result.Changed = $true; $result.Message = 'the service was restarted' }
        return $result
    }
    if ($service.StartMode -eq $script:ReadModes[$mode]) { return New-Result 'ok' $false 0 $command 'the start mode is already set' }
    $code = [int]$service.ChangeStartMode($script:StartModes[$mode]).ReturnValue
    if ($code -ne 0) { return New-ServiceFailure $code $command }
    return New-Result 'ok' $true 0 $command 'the start mode is set'
}
# --- reboot and programs ---------------------------------------------------------------------
# Restart through WMI, as step.js does: Win32_OperatingSystem.Win32Shutdown, flags 2 = Reboot,
# 6 = Forced Reboot (2 + 4); 0 = success ("Win32Shutdown method of the Win32_OperatingSystem
# class", Microsoft Learn). shutdown.exe is not on Windows 2000 (Resource Kit only). The call
# needs SeShutdownPrivilege, enabled through the object's Scope.Options.EnablePrivileges
# (ConnectionOptions.EnablePrivileges, System.Management, .NET 2.0). No timeout in
# Win32Shutdown: the delay is waited here first.
function Invoke-Reboot([object]$Action) {
    $delay = Read-Timeout $Action['delay'] 5
    $flags = 2
    if ($Action['force'] -eq $true) { $flags = 6 }
    $command = "Win32_OperatingSystem Win32Shutdown($flags)"
    Start-Sleep -Seconds $delay
    try {
        $system = @(Get-WmiObject -Class Win32_OperatingSystem)[0]
        $system.psbase.Scope.Options.EnablePrivileges = $true
        $code = [int]$system.Win32Shutdown($flags, 0).ReturnValue
    } catch {
        return New-Result 'failed' $false '' $command (Get-FailureText $_)
    }
    if ($code -ne 0) { return New-Result 'failed' $false $code $command "Win32Shutdown returned $code." }
    return New-Result 'ok' $true 0 $command 'the host is restarting'
}
function Get-BootTime {
    # Win32_OperatingSystem.LastBootUpTime, as WMI writes it (CIM_DATETIME): only compared.
    $system = @(Get-WmiObject -Class Win32_OperatingSystem)[0]
    return New-Result 'ok' $false 0 '' ([string]$system.LastBootUpTime)
}
function Invoke-Run([object]$Action) {
    $program = [string]$Action['program']
    if (-not $program) { return New-Result 'failed' $false '' '' 'no program given.' }
    if ($null -ne $Action['copy']) {
        $copied = Copy-Checked $Action['copy'] $program
        if ($copied -ne $null) { return $copied }
    }
    $parts = @()
    if ($null -ne $Action['arguments']) {
        foreach ($argument in $Action['arguments']) { $parts += ConvertTo-ArgumentText ([string]$argument) }
    }
    $allowed = @(0)
    if ($null -ne $Action['allowed_exit_codes']) {
        $allowed = @()
        foreach ($code in $Action['allowed_exit_codes']) { $allowed += [int]$code }
    }
    return Invoke-Program $program ($parts -join ' ') (Read-Timeout $Action['timeout'] 3600) $allowed
}
# --- files: put_file, and the checked copy of a run step's program ---------------------------
# SHA-256 of a file, lowercase hex. Get-FileHash came with PowerShell 4.0 (Microsoft Learn,
# Get-FileHash); .NET 2.0, under PowerShell 2.0, has System.Security.Cryptography.SHA256Managed.
function Get-Sha256([string]$Path) {
    $hasher = New-Object System.Security.Cryptography.SHA256Managed
    $stream = [IO.File]::OpenRead($Path)
    try { $bytes = $hasher.ComputeHash($stream) } finally { $stream.Close() }
    return ([BitConverter]::ToString($bytes) -replace '-', '').ToLower()
}
# One chunk of a file the controller sends: offset 0 creates (or empties) the file, any other
# offset must be the file's length (a lost or repeated chunk fails, never leaves a hole).
function Invoke-PutFile([object]$Action) {
    $path = [string]$Action['path']
    if (-not $path) { return New-Result 'failed' $false '' '' 'no path given.' }
    $offset = [long](Read-Timeout $Action['offset'] 0)
    $command = 'put_file ' + (ConvertTo-ArgumentText $path) + ' at ' + $offset
    $bytes = [Convert]::FromBase64String([string]$Action['data'])
    $mode = [IO.FileMode]::Create
    if ($offset -gt 0) {
        $length = -1
        if ([IO.File]::Exists($path)) { $length = (New-Object IO.FileInfo -ArgumentList $path).Length }
        if ($length -ne $offset) { return New-Result 'failed' $false '' $command ('the file holds ' + $length + ' bytes, not ' + $offset + ': a chunk is missing.') }
        $mode = [IO.FileMode]::Append
    }
    $stream = New-Object IO.FileStream -ArgumentList $path, $mode, ([IO.FileAccess]::Write)
    try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Close() }
    return New-Result 'ok' $true 0 $command ('' + (New-Object IO.FileInfo -ArgumentList $path).Length + ' bytes written')
}
# Copy a run step's program into place only when it has the planned SHA-256: from a share (the
# host copies it; [IO.File]::Copy reads UNC paths) or from the file put_file assembled. $null
# when the program is in place, else the failed result (the staged copy is removed).
function Copy-Checked([object]$Copy, [string]$Program) {
    $from = [string]$Copy['from']
    $staged = [string]$Copy['staged']
    $wanted = ([string]$Copy['sha256']).ToLower()
    $source = $staged
    if ($from) { $source = $from }
    $command = 'copy ' + (ConvertTo-ArgumentText $source) + ' ' + (ConvertTo-ArgumentText $Program)
    if (-not $staged -or $wanted -cnotmatch '^[0-9a-f]{64}$') { return New-Result 'failed' $false '' '' 'copy: the staged path and the sha256 are needed.' }
    try {
        if ($from) { [IO.File]::Copy($from, $staged, $true) }
        if (-not [IO.File]::Exists($staged)) { return New-Result 'failed' $false 2 $command 'The system cannot find the file specified.' }
        $found = Get-Sha256 $staged
        if ($found -ne $wanted) {
            [IO.File]::Delete($staged)
            return New-Result 'failed' $false '' $command ('The copied file has SHA-256 ' + $found + ', not the planned ' + $wanted + ': it was not run.')
        }
        [IO.File]::Copy($staged, $Program, $true)
        [IO.File]::Delete($staged)
    } catch {
        $code = ''
        $failure = $_.Exception
        while ($failure.InnerException -ne $null) { $failure = $failure.InnerException }
        if ($failure -is [IO.FileNotFoundException]) { $code = 2 }
        return New-Result 'failed' $false $code $command (Get-FailureText $_)
    }
    return $null
}
function Invoke-Step([object]$Request) {
    if (-not ($Request -is [hashtable])) { return New-Result 'failed' $false '' '' 'arguments: the document is not an object.' }
    if ([string]$Request['v'] -ne '1') { return New-Result 'failed' $false '' '' ('step v1 cannot read arguments of version ' + [string]$Request['v'] + '.') }
    $kind = [string]$Request['action']
    if ($kind -eq 'component') { return Invoke-Component $Request }
    if ($kind -eq 'service') { return Invoke-Service $Request }
    if ($kind -eq 'reboot') { return Invoke-Reboot $Request }
    if ($kind -eq 'run') { return Invoke-Run $Request }
    if ($kind -eq 'put_file') { return Invoke-PutFile $Request }
    if ($kind -eq 'boot_time') { return Get-BootTime }
    return New-Result 'failed' $false '' '' "unknown action '$kind'."
}
# --- main ------------------------------------------------------------------------------------
# Add-WindowsFeature and Remove-WindowsFeature write progress records; a host without a console
# (WinRS, powershell -NonInteractive with redirected streams) serializes them as CLIXML on
# stderr ("#< CLIXML"), where they are noise or, for some clients, a failure. SilentlyContinue
# means they are not shown and the command goes on (about_Preference_Variables,
# $ProgressPreference, Microsoft Learn; Ansible's win_feature module sets it for this reason).
$ProgressPreference = 'SilentlyContinue'
$script:Stdout.Write("REMEDIATE-OUTPUT 1 step`r`n")
try {
    $result = Invoke-Step (ConvertFrom-ArgumentText $RemediateArgs)
} catch {
    $result = New-Result 'failed' $false '' '' (Get-FailureText $_)
}
$changed = '0'
if ($result.Changed) { $changed = '1' }
Write-Record 'result' @('status', $result.Status, 'changed', $changed, 'exit_code', $result.ExitCode, 'command', $result.Command, 'message', $result.Message)
$script:Stdout.Write("REMEDIATE-END $($script:RecordCount)`r`n")
$script:Stdout.Flush()
