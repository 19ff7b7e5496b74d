// Tickets on Azure: a Functions app (Flex Consumption by default), PostgreSQL Flexible Server behind
// PgBouncer, Key Vault for the secrets, Application Insights. Deployed by `azd up` or the CI pipeline.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd), used in resource names and tags.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@allowed([
  'FlexConsumption'
  'WindowsConsumption'
])
@description('FlexConsumption (FC1, Linux, .NET 10 isolated) or classic Windows Consumption (Y1) for subscriptions that need it.')
param hostingPlan string = 'FlexConsumption'

@minValue(40)
@maxValue(1000)
@description('Flex Consumption scale-out ceiling. Size it against the database: instances × Max Pool Size must stay under PgBouncer max_client_conn.')
param maximumInstanceCount int = 40

@minValue(0)
@maxValue(20)
@description('Flex Consumption instances kept started for the HTTP functions (billed while idle): raise it before an on-sale so its first buyers do not wait for cold starts, 0 after.')
param alwaysReadyInstances int = 0

@minValue(1)
@maxValue(100)
@description('Npgsql Max Pool Size per instance.')
param maxPoolSize int = 20

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'ticketsadmin'

@secure()
@description('PostgreSQL administrator password: migrations only, never given to the app.')
param postgresAdminPassword string

@description('The login the app connects as, created by the migration step with rights on the rows of its tables only.')
param postgresAppLogin string = 'tickets_app'

@secure()
@description('Password of postgresAppLogin (stored in Key Vault inside the app connection string; the migration step sets it on the role).')
param postgresAppPassword string

@secure()
@description('JWT HS256 signing key, at least 32 bytes: openssl rand -base64 48')
param jwtSigningKey string

@secure()
@description('Webhooks: base64 of 32 random bytes, the AES-256-GCM key that seals subscriptions\' signing secrets in the database: openssl rand -base64 32')
param webhookSecretKey string

@description('JWT issuer the app issues and validates.')
param jwtIssuer string = 'tickets'

@description('JWT audience the app issues and validates.')
param jwtAudience string = 'tickets-api'

@allowed([
  'Batched'
  'Direct'
])
@description('Hold path: Batched (concurrent holds share transactions) or Direct (one transaction per hold).')
param holdMode string = 'Batched'

@description('PostgreSQL compute SKU; it must belong to postgresSkuTier (Standard_B1ms for Burstable).')
param postgresSkuName string = 'Standard_D2ds_v5'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
@description('General Purpose and Memory Optimized run the built-in PgBouncer (the app connects on 6432); Burstable has none, so the app connects to the server on 5432 and Max Pool Size x instances must stay under its max_connections.')
param postgresSkuTier string = 'GeneralPurpose'

@description('PgBouncer pool size per database/user pair (server connections).')
param pgbouncerDefaultPoolSize int = 30

@description('PgBouncer client connection ceiling (all app instances together).')
param pgbouncerMaxClientConn int = 1000

@description('Public IP allowed to reach PostgreSQL directly (for running migrations from a workstation); empty for none.')
param migrationClientIp string = ''

@description('Enable Key Vault purge protection (cannot be turned off again).')
param keyVaultPurgeProtection bool = false

@description('Object id of the deploying user or pipeline principal, granted Key Vault Secrets Officer (azd sets AZURE_PRINCIPAL_ID).')
param principalId string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'app/resources.bicep' = {
  name: 'resources'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    hostingPlan: hostingPlan
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstances: alwaysReadyInstances
    maxPoolSize: maxPoolSize
    postgresAdminLogin: postgresAdminLogin
    postgresAdminPassword: postgresAdminPassword
    postgresAppLogin: postgresAppLogin
    postgresAppPassword: postgresAppPassword
    jwtSigningKey: jwtSigningKey
    webhookSecretKey: webhookSecretKey
    jwtIssuer: jwtIssuer
    jwtAudience: jwtAudience
    holdMode: holdMode
    postgresSkuName: postgresSkuName
    postgresSkuTier: postgresSkuTier
    pgbouncerDefaultPoolSize: pgbouncerDefaultPoolSize
    pgbouncerMaxClientConn: pgbouncerMaxClientConn
    migrationClientIp: migrationClientIp
    keyVaultPurgeProtection: keyVaultPurgeProtection
    principalId: principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output API_BASE_URL string = resources.outputs.apiBaseUrl
output POSTGRES_HOST string = resources.outputs.postgresHost
output POSTGRES_DATABASE string = resources.outputs.postgresDatabase
output POSTGRES_ADMIN_LOGIN string = postgresAdminLogin
output POSTGRES_APP_LOGIN string = postgresAppLogin
output POSTGRES_SERVER_NAME string = resources.outputs.postgresServerName
output KEY_VAULT_NAME string = resources.outputs.keyVaultName
output STORAGE_ACCOUNT_NAME string = resources.outputs.storageAccountName
output APPLICATIONINSIGHTS_NAME string = resources.outputs.applicationInsightsName
