// Everything inside the resource group, wired together: the app's user-assigned identity gets exactly the
// roles it needs on the storage account and the vault, and the app settings reference the vault's secrets.
param location string
param tags object
param resourceToken string
param hostingPlan string
param maximumInstanceCount int
param alwaysReadyInstances int
param maxPoolSize int
param postgresAdminLogin string
@secure()
param postgresAdminPassword string
param postgresAppLogin string
@secure()
param postgresAppPassword string
@secure()
param jwtSigningKey string
@secure()
param webhookSecretKey string
param jwtIssuer string
param jwtAudience string
param holdMode string
param postgresSkuName string
param postgresSkuTier string
param pgbouncerDefaultPoolSize int
param pgbouncerMaxClientConn int
param migrationClientIp string
param keyVaultPurgeProtection bool
param principalId string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-tickets-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    publisherPrincipalId: identity.properties.principalId
  }
}

module storage 'storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    allowSharedKeyAccess: hostingPlan == 'WindowsConsumption'
    principalId: identity.properties.principalId
  }
}

module database 'database.bicep' = {
  name: 'database'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    administratorLogin: postgresAdminLogin
    administratorPassword: postgresAdminPassword
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    pgbouncerDefaultPoolSize: pgbouncerDefaultPoolSize
    pgbouncerMaxClientConn: pgbouncerMaxClientConn
    migrationClientIp: migrationClientIp
  }
}

// The app connects as its own login, not the administrator (the migration step creates it), and verifies the
// server's certificate and host name against the operating system's trusted roots.
// Behind PgBouncer in transaction pooling no session state survives a transaction: no DISCARD ALL on return,
// no automatic preparation (see docs/deploy.md). A direct connection on Burstable needs neither.
var poolingSettings = database.outputs.pooled ? 'No Reset On Close=true;Max Auto Prepare=0;' : ''

module vault 'keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    purgeProtection: keyVaultPurgeProtection
    readerPrincipalId: identity.properties.principalId
    adminPrincipalId: principalId
    databaseConnectionString: 'Host=${database.outputs.host};Port=${database.outputs.port};Database=${database.outputs.databaseName};Username=${postgresAppLogin};Password=${postgresAppPassword};SSL Mode=VerifyFull;${poolingSettings}Max Pool Size=${maxPoolSize};Timeout=5;Command Timeout=15'
    jwtSigningKey: jwtSigningKey
    webhookSecretKey: webhookSecretKey
  }
}

module function 'function.bicep' = {
  name: 'function'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    hostingPlan: hostingPlan
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstances: alwaysReadyInstances
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    databaseSecretUri: vault.outputs.databaseSecretUri
    jwtSecretUri: vault.outputs.jwtSecretUri
    webhookSecretUri: vault.outputs.webhookSecretUri
    jwtIssuer: jwtIssuer
    jwtAudience: jwtAudience
    holdMode: holdMode
  }
}

output functionAppName string = function.outputs.name
output apiBaseUrl string = 'https://${function.outputs.defaultHostName}/api'
output postgresHost string = database.outputs.host
output postgresDatabase string = database.outputs.databaseName
output postgresServerName string = database.outputs.serverName
output keyVaultName string = vault.outputs.name
output storageAccountName string = storage.outputs.name
output applicationInsightsName string = monitoring.outputs.name
